/* Page faults of a malloc/free loop over two large blocks (64 MB, 200 MB), as PyTorch's CPU
 * allocator does with attention scores and logits every step. Build and compare allocators:
 *   gcc -O0 scripts/malloc_faults.c -o /tmp/malloc_faults
 *   /tmp/malloc_faults                                                   # glibc
 *   LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /tmp/malloc_faults
 *   LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1 /tmp/malloc_faults
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

int main(void) {
    struct rusage r0, r1;
    long sum = 0;
    getrusage(RUSAGE_SELF, &r0);
    for (int i = 0; i < 20; i++) {
        char *a = malloc(64L << 20);
        char *b = malloc(200L << 20);
        memset(a, 1, 64L << 20);
        memset(b, 1, 200L << 20);
        sum += a[i] + b[i * 7]; /* keeps the blocks alive to the compiler */
        free(a);
        free(b);
    }
    getrusage(RUSAGE_SELF, &r1);
    printf("minor faults per iteration %ld, kernel time %.2f s (checksum %ld)\n",
           (r1.ru_minflt - r0.ru_minflt) / 20,
           (r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) + (r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1e6, sum);
    return 0;
}
