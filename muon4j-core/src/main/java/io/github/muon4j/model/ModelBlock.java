package io.github.muon4j.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.Pair;
import io.github.muon4j.Backend;
import io.github.muon4j.optim.DeclaresParamRoles;
import io.github.muon4j.optim.ParamRole;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Base of every muon4j model block: parameters are declared with their {@link ParamRole} and the
 * standard deviation of their normal initialisation (0 means "ones", for norm gains), and child
 * blocks are initialised with the parent.
 *
 * <p>Each parameter carries its initializer, so DJL's standard {@code initialize(manager, dataType,
 * shapes)} works on any block: normal(0, std) from the engine's generator for matrices, ones for
 * norm gains (DJL's {@code GAMMA} type). {@link #initialize(NDManager, DataType, long)} replaces
 * them with {@link SeededNormal}, which is deterministic from a seed and each parameter's name
 * ({@code DecoderLM} does this in its constructor, from its config's seed).
 */
public abstract class ModelBlock extends AbstractBlock implements DeclaresParamRoles {

    /** Role and initial standard deviation of a parameter (std 0: initialised to ones). */
    public record ParamSpec(Parameter parameter, ParamRole role, double std) {}

    private final Map<Parameter, ParamSpec> specs = new IdentityHashMap<>();

    protected ModelBlock() {
        super((byte) 1);
    }

    /**
     * Declares a parameter of the given role, init std and shape, with its initializer: normal(0,
     * std), or ones when std is 0.
     */
    protected final Parameter param(String name, ParamRole role, double std, long... shape) {
        Parameter p =
                addParameter(
                        Parameter.builder()
                                .setName(name)
                                .setType(std == 0 ? Parameter.Type.GAMMA : Parameter.Type.WEIGHT)
                                .optInitializer(
                                        std == 0
                                                ? Initializer.ONES
                                                : new NormalInitializer((float) std))
                                .optShape(new Shape(shape))
                                .build());
        specs.put(p, new ParamSpec(p, role, std));
        return p;
    }

    /** The declared role of one of this block's own parameters; null for any other. */
    @Override
    public ParamRole roleOf(Parameter parameter) {
        ParamSpec spec = specs.get(parameter);
        return spec == null ? null : spec.role();
    }

    /** Visits every parameter below this block with the exact name {@code getParameters()} uses. */
    public final void visitParams(String prefix, BiConsumer<String, ParamSpec> v) {
        for (Parameter p : getDirectParameters().values()) {
            v.accept(prefix + p.getName(), specs.get(p));
        }
        for (Pair<String, Block> child : getChildren()) {
            if (child.getValue() instanceof ModelBlock) {
                ((ModelBlock) child.getValue()).visitParams(prefix + child.getKey() + "_", v);
            }
        }
    }

    /**
     * Seeded, deterministic initialisation of every parameter below this block: normal(0, std) from
     * {@code (seed, parameter name)} (see {@link SeededNormal}), ones for norm gains.
     */
    public void initialize(NDManager manager, DataType dataType, long seed) {
        seedInitializers(seed);
        initialize(manager, dataType, new Shape(1));
    }

    /** Gives every parameter below this block its {@link SeededNormal} initializer. */
    protected final void seedInitializers(long seed) {
        visitParams(
                "",
                (name, spec) ->
                        spec.parameter().setInitializer(new SeededNormal(seed, name, spec.std())));
    }

    @Override
    public void initialize(NDManager manager, DataType dataType, Shape... inputShapes) {
        Backend.checkDataType(dataType, manager.getDevice());
        super.initialize(manager, dataType, inputShapes);
    }

    /** The value of {@code p} for this forward pass. */
    protected static NDArray value(ParameterStore ps, Parameter p, boolean training) {
        return ps.getValue(p, p.getArray().getDevice(), training);
    }

    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {
        for (Pair<String, Block> child : getChildren()) {
            child.getValue().initialize(manager, dataType, inputShapes);
        }
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }
}
