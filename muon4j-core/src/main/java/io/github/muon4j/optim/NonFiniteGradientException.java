package io.github.muon4j.optim;

/**
 * A gradient held NaN or an infinity. Thrown before anything is changed: the weights and the
 * optimizer state are exactly as they were before the call, so a trainer may skip the step.
 */
public class NonFiniteGradientException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final String parameter;

    /**
     * @param parameter the name of the parameter whose gradient is not finite
     */
    public NonFiniteGradientException(String parameter) {
        super(
                "gradient of parameter '"
                        + parameter
                        + "' is not finite (NaN or infinity);"
                        + " weights and optimizer state were left unchanged");
        this.parameter = parameter;
    }

    /** The parameter's name. */
    public String parameter() {
        return parameter;
    }
}
