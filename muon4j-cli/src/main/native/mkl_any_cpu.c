/*
 * libtorch's CPU build links Intel oneMKL (2024.0) for sgemm. On a CPU whose vendor is not Intel,
 * MKL's dispatcher asks mkl_serv_intel_cpu_true() and, on 0, runs its generic code path instead of
 * the kernels for the instructions the CPU has (AVX-512 on Zen 4). The symbol is exported by
 * libtorch_cpu.so and called through the PLT, so a preloaded definition replaces it: MKL then
 * picks its kernels by the CPU's feature flags, as on an Intel CPU with the same instructions.
 * The muon4j launcher builds this file with cc and preloads it on AMD CPUs (MUON4J_MKL_ANY_CPU=0
 * turns it off). Measured on a 2-core AMD EPYC (Zen 4): 1024^3 sgemm 23-37 -> 81-129 GFLOP/s
 * under the same load (two threads), 41-66 -> 66-101 on one thread.
 */
int mkl_serv_intel_cpu_true(void) { return 1; }
