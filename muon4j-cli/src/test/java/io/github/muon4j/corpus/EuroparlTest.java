package io.github.muon4j.corpus;

import static org.junit.jupiter.api.Assertions.*;

import io.github.muon4j.data.Corpus;
import io.github.muon4j.data.DataSets;
import io.github.muon4j.data.Tokenizers;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EuroparlTest {

    @Test
    void builtinCorpusIsEnglishAndSplitsDisjointly(@TempDir Path dir) {
        List<String> docs = Europarl.documents();
        assertTrue(docs.size() > 1000, "documents: " + docs.size());
        for (String d : docs) {
            assertTrue(Europarl.isEnglish(d));
        }
        assertFalse(
                Europarl.isEnglish(
                        "Invitiamo dunque la Commissione a sottoporre nuove proposte intese a combattere in modo efficace la discriminazione basata sul sesso e a garantire"));
        DataSets.Pair p = DataSets.open(null, null, 0.02, Tokenizers.byName("byte"), dir, null);
        assertEquals(Math.round((p.train().size() + p.val().size()) * 0.02), p.val().size());
        assertEquals("byte", p.train().tokenizerName());
    }

    @Test
    void theDefaultCorpusIsEuroparlAndBothAreListed() {
        assertEquals("europarl", Corpus.of(null).name());
        assertEquals("europarl", Corpus.of("builtin:europarl").name());
        assertEquals(
                List.of("europarl", "prose"),
                Corpus.available().stream().map(Corpus::name).toList());
    }
}
