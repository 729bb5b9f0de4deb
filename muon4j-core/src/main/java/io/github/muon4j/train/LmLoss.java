package io.github.muon4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import ai.djl.training.loss.Loss;
import io.github.muon4j.TorchScript;
import io.github.muon4j.model.Autocast;
import io.github.muon4j.model.Precision;
import io.github.muon4j.model.Tensors;

/**
 * Next-token cross-entropy of a language model, as a DJL {@link Loss} (for DJL's {@code Trainer}
 * and {@code EasyTrain.fit}) and as the static functions muon4j's own step uses.
 *
 * <p>As a {@code Loss}: labels are the (B, T) next tokens; predictions are what {@link
 * io.github.muon4j.model.DecoderLM} returns, (B, T, V) logits and, when present, the scalar MoE
 * balancing loss, which is added (it is part of what the model is trained on).
 */
public final class LmLoss extends Loss {

    /** The loss under the name "LmLoss". */
    public LmLoss() {
        this("LmLoss");
    }

    /** The loss under {@code name} (the key of DJL's training listeners). */
    public LmLoss(String name) {
        super(name);
    }

    /**
     * @param labels (B, T) next-token ids
     * @param predictions (B, T, V) logits, then optionally a scalar auxiliary loss
     * @return the mean cross-entropy plus the auxiliary loss: a scalar
     */
    @Override
    public NDArray evaluate(NDList labels, NDList predictions) {
        NDArray ce = crossEntropy(predictions.get(0), labels.head());
        return predictions.size() > 1 ? ce.add(predictions.get(1)) : ce;
    }

    /**
     * Mean negative log-likelihood of {@code targets} under {@code logits}.
     *
     * @param logits (B, T, V) float
     * @param targets (B, T) integer token ids
     * @return scalar loss, attached to the logits' manager
     */
    public static NDArray crossEntropy(NDArray logits, NDArray targets) {
        NDArray logp = logits.logSoftmax(-1); //                         (B, T, V)
        NDArray picked =
                logp.gather(targets.toType(DataType.INT64, false).expandDims(-1), -1); // (B, T, 1)
        return picked.mean().neg();
    }

    /**
     * The loss of {@link #fusedHead}: its value, and a scalar whose gradient is the loss's.
     *
     * @param loss the mean cross-entropy (no gradient attached)
     * @param surrogate differentiate this (its value is not the loss): its gradient with respect to
     *     the hidden states and the head weight is the gradient of the loss
     */
    public record HeadLoss(NDArray loss, NDArray surrogate) {}

    /**
     * LM head and cross-entropy together, {@code chunk} tokens at a time, so the (B, T, V) logits
     * and their gradient are never held at once: a chunk's logits live only until its share of the
     * gradient has been computed.
     *
     * <p>With N tokens, h_i the normed hidden state, W the head (V, d), p_i = softmax(W h_i) and
     * y_i the target: loss = (1/N) sum_i (lse(W h_i) - W[y_i] . h_i). The gradient of the first
     * term is dL/dh_i = p_i W / N and dL/dW = sum_i p_i h_i^T / N; both are computed per chunk,
     * outside autograd, by one libtorch call for the whole loop ({@link #HEAD}), and handed to
     * autograd as constants in
     *
     * <pre>
     *   surrogate = sum(h * dh) + sum(W * dW) - (1/N) sum_i W[y_i] . h_i
     * </pre>
     *
     * <p>whose gradient is the loss's (the last term, a row gather, is the one-hot part of the
     * softmax gradient). Each sum of products is one dot product of the flattened arrays: its
     * forward writes no temporary. FLOPs equal the plain head's: 3 products of 2 N d V. Loss and
     * gradients equal {@link #crossEntropy} of {@code h W^T} to float32 rounding (a test checks
     * 1e-5). Under a bf16 {@link Autocast} scope the three products take bfloat16 operands.
     *
     * @param h (B, T, d) normed hidden states, on the autograd graph
     * @param w (V, d) head weight (a parameter, or the tied embedding)
     * @param targets (B, T) integer token ids
     * @param chunk tokens per chunk, at least 1
     */
    public static HeadLoss fusedHead(NDArray h, NDArray w, NDArray targets, int chunk) {
        if (chunk < 1) {
            throw new IllegalArgumentException("chunk must be at least 1, got " + chunk);
        }
        NDManager m = h.getManager();
        long d = h.getShape().get(h.getShape().dimension() - 1);
        long n = h.size() / d;
        NDArray y = targets.toType(DataType.INT64, false).reshape(n); //     (N)
        NDArray hd = h.stopGradient().reshape(n, d); //                     (N, d), no gradient
        // every array made here goes to h's manager (the step's); an op's result lands in the
        // manager of its first operand, so w (the model's manager) never comes first
        NDArray wd = in(w.stopGradient(), m); //                           (V, d)
        // dh (N, d) / N, dw (V, d) / N, sum of -log p[y] (0-d)
        NDList g =
                HEAD.forwardEager(
                        new NDList(
                                hd,
                                wd,
                                y,
                                m.create((long) chunk),
                                m.create(Autocast.current() == Precision.BF16),
                                m.create(1.0 / n)));
        g.attach(m);
        NDArray dH = g.get(0).reshape(h.getShape());
        NDArray dw = g.get(1);
        NDArray loss = g.get(2).muli((float) (1.0 / n));
        NDArray target =
                in(
                        Embedding.embedding(
                                        y.reshape(
                                                h.getShape()
                                                        .slice(0, h.getShape().dimension() - 1)),
                                        w,
                                        SparseFormat.DENSE)
                                .singletonOrThrow(),
                        m); //           (B, T, d) rows W[y]
        NDArray surrogate = dot(h, dH).add(dot(dw, w)).sub(Tensors.scale(dot(target, h), 1.0 / n));
        return new HeadLoss(loss, surrogate);
    }

    /**
     * The smallest target probability whose log is taken from the softmax: when a chunk has a
     * target below it (log p[y] < -69), that chunk's -log p[y] comes from log_softmax, exactly.
     */
    static final float TINY_TARGET_PROBABILITY = 1e-30f;

    /**
     * The chunk loop of {@link #fusedHead} in libtorch, outside autograd. One (c, V) buffer serves
     * every chunk: for each chunk c of rows, the logits h_c W^T are written into it and turned into
     * p = softmax(h_c W^T) in place; dh_c = a p W (c, d), written in place; dW += a p^T h_c (V, d),
     * accumulated in place (one addmm per chunk, the first one ignoring dW's uninitialised values:
     * no (V, d) temporary, no pass to zero or scale it), with a = {@code scale} (1/N, the mean's
     * factor). No (c, V) array is allocated per chunk (alone, 6L-512d's head at 4,096 tokens took
     * about 3% less than with fresh logits and p per chunk, to the same bits). The loss, sum -log
     * p[y] (unscaled), comes from p when every target's p is at least {@link
     * #TINY_TARGET_PROBABILITY} (one gather); otherwise that chunk's logits, which p has
     * overwritten, are computed again in float32 for log_softmax, so a target the model has all but
     * ruled out still counts exactly (one extra product, on that chunk only). With {@code low}
     * (bf16 autocast) h and W are rounded to bfloat16 once per call; the buffer is bfloat16, and
     * the softmax (computed in float32 inside the kernel) writes p in bfloat16, the operand both
     * gradient products take, so no (c, V) array is ever float32 or cast. The loss then reads p[y]
     * rounded to bfloat16: -log p[y] is off by at most 2^-8 per token (4e-3), against about 1e-7 in
     * float32.
     */
    private static final TorchScript HEAD =
            new TorchScript(
                    "FusedHead",
                    "h: Tensor, w: Tensor, y: Tensor, chunk: Tensor, low: Tensor, scale: Tensor",
                    "Tuple[Tensor, Tensor, Tensor]",
                    "c = int(chunk)",
                    "bf16 = bool(low)",
                    "a = float(scale)",
                    "n = torch.size(h, 0)",
                    "hb = torch.to(h, 15) if bf16 else h",
                    "wb = torch.to(w, 15) if bf16 else w",
                    "wt = torch.t(wb)",
                    "dh = torch.empty_like(h)",
                    "dw = torch.zeros_like(w) if bf16 else torch.empty_like(w)",
                    "nll = torch.new_zeros(h, annotate(List[int], []))",
                    "buf = torch.new_empty(hb, [min(n, c), torch.size(w, 0)])",
                    "for s in range(0, n, c):",
                    "  e = min(n, s + c)",
                    "  hc = torch.slice(hb, 0, s, e)",
                    "  yc = torch.unsqueeze(torch.slice(y, 0, s, e), 1)",
                    "  p = torch.slice(buf, 0, 0, e - s)",
                    "  torch.mm(hc, wt, out=p)",
                    "  torch.softmax(p, 1, out=p)",
                    "  pyc = torch.gather(p, 1, yc)",
                    "  py = torch.to(pyc, 6)",
                    "  if bool(torch.ge(torch.min(py), " + TINY_TARGET_PROBABILITY + ")):",
                    "    nll = torch.sub(nll, torch.sum(torch.log(py)))",
                    "  else:",
                    "    logits = torch.mm(torch.slice(h, 0, s, e), torch.t(w))",
                    "    logp = torch.log_softmax(logits, 1)",
                    "    nll = torch.sub(nll, torch.sum(torch.gather(logp, 1, yc)))",
                    "  if bf16:",
                    "    torch.copy_(torch.slice(dh, 0, s, e), torch.mm(p, wb))",
                    "    torch.add_(dw, torch.mm(torch.t(p), hc), alpha=a)",
                    "  else:",
                    "    torch.addmm_(torch.slice(dh, 0, s, e), p, wb, beta=0., alpha=a)",
                    "    torch.addmm_(dw, torch.t(p), hc, beta=0. if s == 0 else 1., alpha=a)",
                    "if bf16:",
                    "  torch.mul_(dh, a)",
                    "return (dh, dw, nll)");

    /**
     * {@code sum(a * b)} over all elements, as one dot product of the flattened arrays, in a's
     * manager (b's flattened view too: b may be a parameter, in the model's manager).
     */
    private static NDArray dot(NDArray a, NDArray b) {
        return a.reshape(-1).dot(in(b.reshape(-1), a.getManager()));
    }

    private static NDArray in(NDArray a, NDManager m) {
        a.attach(m);
        return a;
    }
}
