package io.github.muon4j.optim;

import ai.djl.nn.Parameter;

/**
 * A block that knows what each of its own parameters is (muon4j's model blocks do): the default
 * routing of {@link ParamRoles#defaults} asks it before applying its general rule.
 */
public interface DeclaresParamRoles {

    /** The role of {@code parameter}, one of this block's direct parameters; null if unknown. */
    ParamRole roleOf(Parameter parameter);
}
