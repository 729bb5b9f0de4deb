package io.github.muon4j.train;

import ai.djl.training.tracker.ParameterTracker;
import ai.djl.training.tracker.Tracker;
import io.github.muon4j.optim.AdjustLr;
import io.github.muon4j.optim.DecoupledAdamW;
import io.github.muon4j.optim.Muon;
import io.github.muon4j.optim.MuonWithAdamW;
import io.github.muon4j.optim.ParamRole;
import java.util.Map;

/**
 * The optimizer of a training run: Muon for hidden matrices and expert stacks, AdamW for the rest;
 * or AdamW for everything, matrices at {@code matrixLr}. The policy is the same in both arms: the
 * non-matrix parameters (embedding, head, norms, routers) get AdamW at {@code otherLr} with the
 * same betas and decay either way; only the matrices' optimizer and rate differ. Muon's update uses
 * Keller Jordan's ORIGINAL scaling (msign(G) x sqrt(max(1, rows/cols)), update RMS about
 * 1/sqrt(cols), not matched to AdamW's), so its rate is not on AdamW's scale and must be tuned on
 * its own. Weight decay is decoupled and multiplied by each parameter's own rate (PyTorch's
 * convention, in Muon as in AdamW), applied to every parameter in both arms.
 */
public final class OptimizerRecipe {

    private OptimizerRecipe() {}

    /**
     * Muon (momentum 0.95, Nesterov, 5 Newton-Schulz steps) + AdamW (0.9, 0.95, 1e-8), or AdamW
     * alone.
     */
    public static MuonWithAdamW of(
            boolean muon,
            Map<String, ParamRole> roles,
            Tracker matrixLr,
            Tracker otherLr,
            float weightDecay) {
        // AdamW-only: every parameter goes to AdamW, matrices still at their own learning rate
        ParameterTracker adamLr =
                muon
                        ? otherLr
                        : (ParameterTracker)
                                (name, n) -> {
                                    ParamRole r = roles.get(name);
                                    return (r != null && r.isMuon() ? matrixLr : otherLr)
                                            .getNewValue(n);
                                };
        DecoupledAdamW adamw =
                DecoupledAdamW.builder()
                        .optLearningRateTracker(adamLr)
                        .optBeta1(0.9f)
                        .optBeta2(0.95f)
                        .optEpsilon(1e-8f)
                        .optWeightDecays(weightDecay)
                        .build();
        MuonWithAdamW.Builder b = MuonWithAdamW.builder().optAdamW(adamw).optRoles(roles);
        if (muon) {
            b.optMuon(
                    Muon.builder()
                            .optLearningRateTracker(matrixLr)
                            .optMomentum(0.95f)
                            .optNesterov(true)
                            .optNsSteps(5)
                            .optAdjustLr(AdjustLr.ORIGINAL)
                            .optWeightDecays(weightDecay)
                            .build());
        } else {
            b.optOverride(".*", MuonWithAdamW.Group.ADAMW);
        }
        return b.build();
    }
}
