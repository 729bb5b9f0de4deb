package io.github.muon4j.optim;

/**
 * What one Muon update did to one parameter, computed only when asked for (see {@link
 * Muon#diagnoseNextStep}).
 *
 * @param parameter the parameter's name
 * @param learningRate the learning rate used
 * @param scale the {@link AdjustLr} factor used
 * @param updateRms RMS of the applied update {@code lr*scale*X} (weight decay not included)
 * @param orthogonalityError {@code ||X X^T - I||_F / sqrt(min(rows, cols))} of the Newton-Schulz
 *     output X (the largest over a stack of matrices); NaN unless this parameter was chosen
 * @param spectralNorm spectral norm of the applied update, {@code lr*scale*sigma_max(X)}: the
 *     theory's bound, independent of the gradient's size; NaN unless this parameter was chosen
 */
public record MuonDiagnostics(
        String parameter,
        double learningRate,
        double scale,
        double updateRms,
        double orthogonalityError,
        double spectralNorm) {}
