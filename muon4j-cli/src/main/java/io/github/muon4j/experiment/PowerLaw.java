package io.github.muon4j.experiment;

/**
 * A fitted loss-vs-data law L(D) = E + A D^-a (the form of Kaplan et al. 2020 and Hoffmann et al.
 * 2022 in one variable), by least squares on L: for each exponent a the best E and A are linear
 * least squares in x = D^-a; a itself is scanned on a log grid and refined by golden-section
 * search. E is kept >= 0 and A > 0 (a loss cannot fall below zero, and more data does not hurt).
 */
public record PowerLaw(double e, double a, double alpha, double rss) {

    /** L at data D. */
    public double loss(double d) {
        return e + a * StrictMath.pow(d, -alpha);
    }

    /** The data at which L(D) = target: +infinity when the target is at or below E. */
    public double data(double target) {
        return target <= e ? Double.POSITIVE_INFINITY : StrictMath.pow(a / (target - e), 1 / alpha);
    }

    /** Fits the law to (D, L) points (at least 3, D > 0). */
    public static PowerLaw fit(double[] d, double[] l) {
        if (d.length != l.length || d.length < 3) {
            throw new IllegalArgumentException("power-law fit: need at least 3 (D, L) points");
        }
        PowerLaw best = null;
        double lo = StrictMath.log(1e-3), hi = StrictMath.log(3.0);
        int n = 200;
        int bi = 0;
        for (int i = 0; i <= n; i++) {
            PowerLaw p = at(d, l, StrictMath.exp(lo + (hi - lo) * i / n));
            if (best == null || p.rss() < best.rss()) {
                best = p;
                bi = i;
            }
        }
        // golden-section search on log(alpha) in the grid cell on either side of the best point
        double x0 = lo + (hi - lo) * Math.max(0, bi - 1) / n,
                x1 = lo + (hi - lo) * Math.min(n, bi + 1) / n;
        double g = (StrictMath.sqrt(5) - 1) / 2;
        double c = x1 - g * (x1 - x0), e = x0 + g * (x1 - x0);
        PowerLaw pc = at(d, l, StrictMath.exp(c)), pe = at(d, l, StrictMath.exp(e));
        for (int it = 0; it < 100; it++) {
            if (pc.rss() < pe.rss()) {
                x1 = e;
                e = c;
                pe = pc;
                c = x1 - g * (x1 - x0);
                pc = at(d, l, StrictMath.exp(c));
            } else {
                x0 = c;
                c = e;
                pc = pe;
                e = x0 + g * (x1 - x0);
                pe = at(d, l, StrictMath.exp(e));
            }
        }
        for (PowerLaw p : new PowerLaw[] {pc, pe}) {
            if (p.rss() < best.rss()) {
                best = p;
            }
        }
        return best;
    }

    /** The least-squares E >= 0 and A > 0 at a fixed exponent. */
    static PowerLaw at(double[] d, double[] l, double alpha) {
        int n = d.length;
        double[] x = new double[n];
        double mx = 0, ml = 0;
        for (int i = 0; i < n; i++) {
            x[i] = StrictMath.pow(d[i], -alpha);
            mx += x[i] / n;
            ml += l[i] / n;
        }
        double sxx = 0, sxl = 0;
        for (int i = 0; i < n; i++) {
            sxx += (x[i] - mx) * (x[i] - mx);
            sxl += (x[i] - mx) * (l[i] - ml);
        }
        double a = sxx > 0 ? sxl / sxx : 0, e = ml - a * mx;
        if (e < 0) { // E = 0: A by least squares through the origin
            double xx = 0, xl = 0;
            for (int i = 0; i < n; i++) {
                xx += x[i] * x[i];
                xl += x[i] * l[i];
            }
            e = 0;
            a = xl / xx;
        }
        if (a <= 0) { // flat or rising: the mean, no dependence on data
            a = 0;
            e = ml;
        }
        double rss = 0;
        for (int i = 0; i < n; i++) {
            double r = l[i] - (e + a * x[i]);
            rss += r * r;
        }
        return new PowerLaw(e, a, alpha, rss);
    }
}
