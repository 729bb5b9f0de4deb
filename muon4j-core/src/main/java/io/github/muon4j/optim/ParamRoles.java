package io.github.muon4j.optim;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.util.Pair;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * The default role of each parameter of any DJL block, for {@link MuonWithAdamW.Builder#optBlock}.
 * A parameter's role is, in this order:
 *
 * <ol>
 *   <li>what its block declares, when the block implements {@link DeclaresParamRoles} (muon4j's
 *       {@code DecoderLM} and its layers);
 *   <li>{@link ParamRole#BIAS} for DJL's bias type, {@link ParamRole#NORM} for gamma, beta and
 *       running statistics and for every parameter of a {@code LayerNorm} or {@code BatchNorm};
 *   <li>{@link ParamRole#EMBEDDING} for the parameters of an {@code Embedding} block;
 *   <li>{@link ParamRole#HEAD} for the weight of the <em>last</em> {@code Linear} block in the
 *       order of {@code getParameters()} (depth first, children in the order they were added): that
 *       is taken to be the output layer;
 *   <li>otherwise {@link ParamRole#HIDDEN_MATRIX} for a 2-D weight, and {@link ParamRole#OTHER} for
 *       anything else (a 1-D weight, a convolution kernel).
 * </ol>
 *
 * <p>So only the 2-D hidden weights go to Muon. The rule is structural: it needs shapes only for
 * the last step, where it reads the parameter's shape when the role is asked for (after the block
 * is initialized).
 */
public final class ParamRoles {

    private ParamRoles() {}

    /**
     * The default role function of {@code block}, fixed from its structure now: (parameter name,
     * parameter) to role, as the class comment says.
     */
    public static BiFunction<String, Parameter, ParamRole> defaults(Block block) {
        Map<Parameter, ParamRole> known = new IdentityHashMap<>();
        Parameter[] lastLinear = new Parameter[1];
        visit(block, known, lastLinear);
        if (lastLinear[0] != null) {
            known.put(lastLinear[0], ParamRole.HEAD);
        }
        return (name, parameter) -> {
            ParamRole r = known.get(parameter);
            if (r != null) {
                return r;
            }
            Shape s = parameter.getShape();
            if (s == null && parameter.isInitialized()) {
                s = parameter.getArray().getShape();
            }
            return s != null && s.dimension() == 2 ? ParamRole.HIDDEN_MATRIX : ParamRole.OTHER;
        };
    }

    /** Records every role decided by structure, and the weight of the last Linear seen. */
    private static void visit(
            Block block, Map<Parameter, ParamRole> known, Parameter[] lastLinear) {
        for (Parameter p : block.getDirectParameters().values()) {
            ParamRole r = structuralRole(block, p);
            if (r != null) {
                known.put(p, r);
            } else if (block instanceof Linear && p.getType() == Parameter.Type.WEIGHT) {
                lastLinear[0] = p;
            }
        }
        for (Pair<String, Block> child : block.getChildren()) {
            visit(child.getValue(), known, lastLinear);
        }
    }

    private static ParamRole structuralRole(Block block, Parameter p) {
        if (block instanceof DeclaresParamRoles d) {
            ParamRole r = d.roleOf(p);
            if (r != null) {
                return r;
            }
        }
        switch (p.getType()) {
            case BIAS:
                return ParamRole.BIAS;
            case GAMMA:
            case BETA:
            case RUNNING_MEAN:
            case RUNNING_VAR:
                return ParamRole.NORM;
            default:
                break;
        }
        if (block instanceof LayerNorm || block instanceof BatchNorm) {
            return ParamRole.NORM;
        }
        if (block instanceof Embedding) {
            return ParamRole.EMBEDDING;
        }
        return null;
    }
}
