package io.github.muon4j.data;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.github.muon4j.interop.Untrusted;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Coverage-guided fuzzing of the token shard and tokenizer.json readers (see
 * interop.UntrustedFilesFuzzTest).
 */
class UntrustedDataFuzzTest {

    static final Path DIR = Untrusted.scratch("muon4j-fuzz-data");

    @FuzzTest(maxDuration = "30s")
    void tokenShard(byte[] data) throws Exception {
        Path f = DIR.resolve("train.bin");
        Files.write(f, data);
        Untrusted.check(
                f.toString(),
                () -> {
                    for (TokenShard.Mapped m : TokenShard.mapPieces(f)) {
                        long n = Math.min(m.count(), 4096);
                        for (long i = 0; i < n; i++) {
                            m.token(i);
                        }
                    }
                });
    }

    @FuzzTest(maxDuration = "30s")
    void tokenizerJson(byte[] data) throws Exception {
        Path f = DIR.resolve("tokenizer.json");
        Files.write(f, data);
        Untrusted.check(
                f.toString(),
                () -> {
                    HfTokenizer t = HfTokenizer.load(f);
                    t.encode("The cat, 42");
                });
    }
}
