package io.github.muon4j.data;

import com.google.gson.JsonElement;

/**
 * Integers read from JSON that muon4j did not write (a tokenizer.json, a config.json, a
 * checkpoint's metadata), exactly: Gson's {@code getAsInt} wraps 10^10 round to 1,410,065,408 and
 * cuts 2.5 to 2, so a bad file would be read as a different, plausible one. Here such a value is
 * refused instead.
 */
public final class JsonInts {

    private JsonInts() {}

    /**
     * {@code v} as an int.
     *
     * @throws IllegalArgumentException when {@code v} is not a JSON number, or not a whole number
     *     in int range; the message reads "is &lt;v&gt;, not a whole number below 2^31", for the
     *     caller to prefix with the field's name
     */
    public static int exact(JsonElement v) {
        if (v == null || !v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
            throw new IllegalArgumentException("is " + shown(v) + ", not a number");
        }
        try {
            return v.getAsBigDecimal().intValueExact();
        } catch (ArithmeticException | NumberFormatException e) {
            throw new IllegalArgumentException(
                    "is " + shown(v) + ", not a whole number below 2^31");
        }
    }

    /**
     * {@code v} as an int from {@code min} to {@code max}.
     *
     * @throws IllegalArgumentException as {@link #exact}, or with "is &lt;v&gt;, not from
     *     &lt;min&gt; to &lt;max&gt;" for a whole number outside the range
     */
    public static int exact(JsonElement v, int min, int max) {
        int i = exact(v);
        if (i < min || i > max) {
            throw new IllegalArgumentException("is " + i + ", not from " + min + " to " + max);
        }
        return i;
    }

    /** The value as the file spells it, cut to 40 characters. */
    private static String shown(JsonElement v) {
        String s = String.valueOf(v);
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }
}
