package io.github.muon4j.model;

import com.google.gson.Gson;
import com.google.gson.JsonParseException;
import com.google.gson.TypeAdapter;
import com.google.gson.TypeAdapterFactory;
import com.google.gson.reflect.TypeToken;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Gson's enums as muon4j's JSON files write them: lower-case names ({@code "mla"}, {@code
 * "cosine"}), read case-insensitively; a name that is none of them is an {@link Unknown} listing
 * the right ones.
 */
public final class LowerCaseEnums implements TypeAdapterFactory {

    /** A value that is none of an enum's names: "must be one of a|b, not 'c'". */
    public static final class Unknown extends JsonParseException {
        private final String field;

        Unknown(String message, String field) {
            super(message);
            this.field = field;
        }

        /** The JSON field that held the value ({@code attention}), or "" at the top level. */
        public String field() {
            return field;
        }
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public <T> TypeAdapter<T> create(Gson gson, TypeToken<T> type) {
        Class<?> raw = type.getRawType();
        if (!raw.isEnum()) {
            return null;
        }
        Enum<?>[] constants = (Enum<?>[]) raw.getEnumConstants();
        return (TypeAdapter<T>)
                new TypeAdapter<Enum>() {
                    @Override
                    public void write(JsonWriter out, Enum v) throws IOException {
                        if (v == null) {
                            out.nullValue();
                        } else {
                            out.value(v.name().toLowerCase(Locale.ROOT));
                        }
                    }

                    @Override
                    public Enum read(JsonReader in) throws IOException {
                        if (in.peek() == JsonToken.NULL) {
                            in.nextNull();
                            return null;
                        }
                        String s = in.nextString();
                        for (Enum<?> c : constants) {
                            if (c.name().equalsIgnoreCase(s)) {
                                return c;
                            }
                        }
                        throw new Unknown(
                                "must be one of "
                                        + Arrays.stream(constants)
                                                .map(c -> c.name().toLowerCase(Locale.ROOT))
                                                .collect(Collectors.joining("|"))
                                        + ", not '"
                                        + s
                                        + "'",
                                in.getPreviousPath().replaceFirst("^\\$\\.?", ""));
                    }
                };
    }
}
