// The Gaussian model of block routing (docs/SNR.md, "The model"): from a single key's score gap
// Δμ and the noise keys' spread σ, the signal-to-noise ratio of the router's pairwise choice
// between the relevant block and one noise block, the probability it chooses wrong, and the
// probability the relevant block makes the top k of n noise blocks.
#pragma once

#include <cstdint>

namespace headscope {

// SNR(B) = Δμ / (σ · sqrt(2B)): with i.i.d. noise keys of spread σ a block mean has spread
// σ / sqrt(B), the difference of two block means σ · sqrt(2 / B), and the relevant block's mean
// exceeds a noise block's by Δμ / B. For unit vectors in d dimensions σ = 1 / sqrt(d) and this
// is the paper's Δμ · sqrt(d / (2B)). NaN when sigma is not positive.
double snr_theory(double delta_mu, double sigma, int64_t block_size);

// Φ(-snr): the probability a given noise block outscores the relevant block.
double pairwise_error_probability(double snr);

// The probability the relevant block ranks among the top k of itself and `noise_blocks` noise
// blocks (at most k - 1 of them above it), when its score minus a noise block's is Gaussian with
// mean/std `snr` and the noise blocks are i.i.d.: with t = sqrt(2) · snr (the gap in units of
// one block's spread), ∫ φ(z) · P(Binomial(n, Φ(-t - z)) ≤ k - 1) dz over the relevant block's
// own noise z. Integrated numerically (Simpson, z in [-8, 8], 801 points; the tails beyond hold
// under 1.3e-15 of the mass).
double predicted_recall(double snr, int64_t noise_blocks, int64_t k);

}  // namespace headscope
