package io.github.muon4j.data;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;
import java.nio.charset.StandardCharsets;

/** OpenAI's byte-pair encodings through jtokkit: GPT-2's r50k_base and cl100k_base. */
final class BpeTokenizer implements Tokenizer {

    private static final EncodingRegistry REGISTRY = Encodings.newLazyEncodingRegistry();

    private final String name;
    private final Encoding encoding;
    private final int vocab;
    private final int eot;

    private BpeTokenizer(String name, EncodingType type, int vocab, int eot) {
        this.name = name;
        this.encoding = REGISTRY.getEncoding(type);
        this.vocab = vocab;
        this.eot = eot;
    }

    /** GPT-2 BPE (r50k_base): 50,256 merges and bytes, end-of-text 50256; vocabulary 50257. */
    public static BpeTokenizer gpt2() {
        return new BpeTokenizer("gpt2", EncodingType.R50K_BASE, 50257, 50256);
    }

    /**
     * cl100k_base: ordinary tokens 0..100255, end-of-text 100257; vocabulary 100277 with specials.
     */
    public static BpeTokenizer cl100k() {
        return new BpeTokenizer("cl100k", EncodingType.CL100K_BASE, 100277, 100257);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    @Override
    public int eotToken() {
        return eot;
    }

    @Override
    public int[] encode(String text) {
        return encoding.encodeOrdinary(text).toArray();
    }

    @Override
    public String decode(int[] ids) {
        IntArrayList l = new IntArrayList(ids.length);
        for (int id : ids) {
            if (id != eot && id >= 0 && id < vocab) {
                l.add(id);
            }
        }
        try {
            return new String(encoding.decodeBytes(l), StandardCharsets.UTF_8);
        } catch (RuntimeException unknownId) {
            // ids in the vocabulary's gaps (cl100k's reserved range) have no bytes
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < l.size(); i++) {
                IntArrayList one = new IntArrayList(1);
                one.add(l.get(i));
                try {
                    sb.append(new String(encoding.decodeBytes(one), StandardCharsets.UTF_8));
                } catch (RuntimeException e) {
                    sb.append('\uFFFD');
                }
            }
            return sb.toString();
        }
    }
}
