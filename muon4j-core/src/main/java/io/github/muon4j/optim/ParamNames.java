package io.github.muon4j.optim;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The names of a block's parameters by DJL id, resolved once. DJL's {@code Trainer} calls {@code
 * Optimizer.update} with {@link Parameter#getId()}, an id such as {@code uid-81512-12} that changes
 * in every process; optimizers route, key their state and word their errors by the name that {@link
 * Block#getParameters()} gives ({@code 01Linear_weight}).
 */
final class ParamNames {

    /** Names of no block: every key is taken as it is. */
    static final ParamNames NONE = new ParamNames(Collections.emptyMap());

    /** What {@code NDManager.nextUid()} gives DJL 0.36's parameters. */
    private static final Pattern DJL_ID = Pattern.compile("uid-\\d+-\\d+");

    private final Map<String, String> byId;

    private ParamNames(Map<String, String> byId) {
        this.byId = byId;
    }

    /** The names of every parameter of {@code block}, by id. */
    static ParamNames of(Block block) {
        if (block == null) {
            throw new IllegalArgumentException("block must not be null");
        }
        Map<String, String> byId = new HashMap<>();
        for (Pair<String, Parameter> p : block.getParameters()) {
            byId.put(p.getValue().getId(), p.getKey());
        }
        return new ParamNames(Collections.unmodifiableMap(byId));
    }

    /** The name of the parameter with id {@code key}; a key that is no known id is a name. */
    String name(String key) {
        return byId.getOrDefault(key, key);
    }

    /** True for a DJL parameter id (which no name of {@code getParameters()} looks like). */
    static boolean isDjlId(String key) {
        return DJL_ID.matcher(key).matches();
    }
}
