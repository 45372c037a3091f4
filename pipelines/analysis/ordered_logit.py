"""The ordered logit of ``conditional``: statsmodels' ``OrderedModel`` (logit link,
proportional odds) with the analytic score and Hessian, and the fit that uses them.

Why not the stock model: it differentiates the likelihood numerically, about 20 s for one
20 000-row fit with 40 parameters. ``OrderedLogit`` computes its derivatives on a sparse
copy of the design (agency dummies are mostly zeros; sparse products also avoid
multithreaded BLAS, which slowed 15-30x when other processes shared the CPU) and is fitted
by Newton's method (BFGS as fallback): about 0.5 s for three outcomes on a 20 000-row year.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse, special
from statsmodels.base.model import GenericLikelihoodModel
from statsmodels.miscmodels.ordinal_model import OrderedModel


class OrderedLogit(OrderedModel):
    """``OrderedModel(distr="logit")`` with the analytic score and Hessian.

    Same likelihood and parameters as the stock model (exog coefficients, then thresholds
    in statsmodels' increment parametrisation: c_1, log(c_2 - c_1), ...), so results are
    interchangeable; the tests check both against each other.
    """

    def __init__(self, endog: np.ndarray, exog: np.ndarray, **kwds: object) -> None:
        # exog is full rank without a constant by construction (conditional.independent_columns):
        # skip statsmodels' SVD rank checks, which cost more than the fit itself.
        kwds.setdefault("distr", "logit")
        kwds.setdefault("hasconst", False)
        super().__init__(endog, exog, **kwds)
        # agency dummies make exog mostly zeros: sparse products are ~10x cheaper and, unlike
        # multithreaded BLAS on these tall narrow matrices, do not slow down 15-30x when
        # other processes share the CPU (as parallel Dagster runs do)
        self._sparse_exog = sparse.csr_array(self.exog)

    def initialize(self) -> None:
        # GenericLikelihoodModel.initialize without its SVD; OrderedModel.__init__ then
        # sets df_model and df_resid from the parameter count.
        self.df_model = float(self.exog.shape[1] - 1)
        self.df_resid = float(self.exog.shape[0] - self.exog.shape[1])
        super(GenericLikelihoodModel, self).initialize()

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return special.expit(x)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        p = special.expit(x)
        return p * (1 - p)

    def _linpred(
        self,
        params: np.ndarray,
        exog: np.ndarray | None = None,
        offset: np.ndarray | None = None,
    ) -> np.ndarray:
        if exog is None and offset is None and self.offset is None:
            return self._sparse_exog @ np.asarray(params)[: self.k_vars]
        return super()._linpred(params, exog, offset)

    def _pieces(self, params: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per observation: dl/du, dl/dl and the three second derivatives in (upp, low)."""
        low, upp = self._bounds(params)
        f_upp, f_low = special.expit(upp), special.expit(low)
        prob = np.maximum(f_upp - f_low, 1e-300)
        d_upp, d_low = f_upp * (1 - f_upp), f_low * (1 - f_low)
        g_upp, g_low = d_upp / prob, -d_low / prob
        h_uu = d_upp * (1 - 2 * f_upp) / prob - g_upp**2
        h_ll = -d_low * (1 - 2 * f_low) / prob - g_low**2
        h_ul = -g_upp * g_low
        return g_upp, g_low, h_uu, h_ll, h_ul

    def _threshold_jacobian(self, params: np.ndarray) -> np.ndarray:
        """d thresholds / d transformed thresholds, (J-1) x (J-1), lower triangular."""
        k = self.k_levels - 1
        increments = np.exp(params[-k:])
        jac = np.tril(np.tile(increments, (k, 1)))
        jac[:, 0] = 1.0
        return jac

    def score_obs(self, params: np.ndarray, **kwds: object) -> np.ndarray:
        g_upp, g_low, *_ = self._pieces(params)
        k = self.k_levels - 1
        y = self.endog
        # threshold i is the upper bound of level i and the lower bound of level i + 1
        by_threshold = np.zeros((self.nobs, k + 1))
        by_threshold[np.arange(self.nobs), y] += g_upp
        by_threshold[np.arange(self.nobs)[y > 0], y[y > 0] - 1] += g_low[y > 0]
        score_thresh = by_threshold[:, :k] @ self._threshold_jacobian(params)
        return np.column_stack((-(g_upp + g_low)[:, None] * self.exog, score_thresh))

    def score(self, params: np.ndarray) -> np.ndarray:
        g_upp, g_low, *_ = self._pieces(params)
        k = self.k_levels - 1
        y = self.endog
        score_c = np.bincount(y, g_upp, k + 1)[:k] + np.bincount(y, g_low, k + 1)[1:]
        return np.concatenate(
            (-(self._sparse_exog.T @ (g_upp + g_low)), score_c @ self._threshold_jacobian(params))
        )

    def hessian(self, params: np.ndarray) -> np.ndarray:
        g_upp, g_low, h_uu, h_ll, h_ul = self._pieces(params)
        k = self.k_levels - 1
        y, x = self.endog, self._sparse_exog
        k_vars = self.k_vars
        hess = np.zeros((k_vars + k, k_vars + k))
        weighted = x.multiply((h_uu + 2 * h_ul + h_ll)[:, None])
        hess[:k_vars, :k_vars] = (x.T @ weighted).toarray()
        # exog x threshold i: rows whose upper bound is i (level i), lower bound i (level i+1)
        onehot = np.zeros((self.nobs, k + 1))
        onehot[np.arange(self.nobs), y] = 1.0
        upper_part = x.T @ (onehot * (h_uu + h_ul)[:, None])
        lower_part = x.T @ (onehot * (h_ll + h_ul)[:, None])
        cross = -(upper_part[:, :k] + lower_part[:, 1:])
        h_cc = np.diag(np.bincount(y, h_uu, k + 1)[:k] + np.bincount(y, h_ll, k + 1)[1:])
        off = np.bincount(y, h_ul, k + 1)[1:k]  # threshold i and i+1 bound level i+1
        h_cc[np.arange(k - 1), np.arange(1, k)] = off
        h_cc[np.arange(1, k), np.arange(k - 1)] = off
        jac = self._threshold_jacobian(params)
        score_c = np.bincount(y, g_upp, k + 1)[:k] + np.bincount(y, g_low, k + 1)[1:]
        # second derivative of threshold i w.r.t. the m-th increment is exp(theta_m), m <= i
        curvature = np.zeros(k)
        curvature[1:] = np.exp(params[-k:][1:]) * np.cumsum(score_c[::-1])[::-1][1:]
        hess[:k_vars, k_vars:] = cross @ jac
        hess[k_vars:, :k_vars] = hess[:k_vars, k_vars:].T
        hess[k_vars:, k_vars:] = jac.T @ h_cc @ jac + np.diag(curvature)
        return hess


@dataclass(frozen=True)
class Fit:
    """Coefficient, standard error and convergence of one fitted model."""

    params: np.ndarray
    bse: np.ndarray
    converged: bool


def fit_ordered_logit(y: np.ndarray, x: np.ndarray) -> Fit | None:
    """Fit ``OrderedLogit``: Newton first (a few iterations from the marginal thresholds),
    BFGS with the analytic gradient if Newton does not converge. None when the fit raises."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence / Hessian warnings: judged below
        try:
            model = OrderedLogit(y, x)
            result = model.fit(method="newton", maxiter=100, disp=False)
            if not _usable(result):
                result = model.fit(method="bfgs", maxiter=2000, disp=False, gtol=1e-8)
            params = np.asarray(result.params, dtype=float)
            bse = np.asarray(result.bse, dtype=float)
            converged = bool(result.mle_retvals.get("converged", False))
        except (np.linalg.LinAlgError, ValueError, FloatingPointError):
            return None
    return Fit(params, bse, converged)


def _usable(result: Any) -> bool:
    converged = bool((result.mle_retvals or {}).get("converged", False))
    return converged and bool(np.isfinite(np.asarray(result.params, dtype=float)).all())
