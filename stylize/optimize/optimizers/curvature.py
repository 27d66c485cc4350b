"""L-BFGS's curvature memory on the device, and its direction in the compact form, without host reads.

The two-loop recursion (Nocedal & Wright, Alg. 7.4) takes 2m dot products, each a number the
loop must know before its next step: on a GPU, 2m waits for the card per iteration. The same
direction follows from small matrices instead (Byrd, Nocedal & Schnabel 1994, the compact form):
with the pairs in time order (oldest first), a = S g, b = Y g, A = S Y^T (A_ij = s_i . y_j),
B = Y Y^T, rho_i = 1 / (s_i . y_i) and gamma the latest pair's (s . y) / (y . y), the recursion's
two loops are two triangular systems,

    (I + diag(rho) triu(A, 1)) alpha = -rho * a                                  (first loop)
    (I + diag(rho) tril(A^T, -1)) beta = rho * (gamma (-b - B alpha) + tril(A^T, -1) alpha)   (second)
    -H g = -gamma g - gamma Y^T alpha + S^T (alpha - beta)

so a direction is two matrix products with the history, two m x m solves and a combination: a
fixed number of operations whatever m, and no number leaves the device. A and B are kept up to
date as pairs arrive (one product of the history with the new pair). The pairs live in a ring
buffer; a pair without positive curvature (s . y <= CURVATURE_MIN) is not stored, decided on the
device with `torch.where`. Empty slots have rho = 0 and drop out of both systems. The small
systems are solved in float64; the history stays in the image's precision.

Every tensor has a leading batch dimension (k pictures, each with its own memory).
"""

from __future__ import annotations

import torch

CURVATURE_MIN = 1e-10  # a step whose y.s is not above this does not update the memory


class CurvatureMemory:
    """The last `size` pairs (s, y) of each of `batch` flat vectors of `length` values."""

    def __init__(self, size: int, length: int, batch: int = 1, *, like: torch.Tensor) -> None:
        self.size = size
        device, dtype = like.device, like.dtype
        self.pairs = torch.zeros(batch, 2 * size, length, device=device, dtype=dtype)  # rows: s_0..s_m-1, y_0..y_m-1
        self.sy = torch.zeros(batch, size, size, device=device, dtype=torch.float64)  # [i, j] = s_i . y_j (by slot)
        self.yy = torch.zeros(batch, size, size, device=device, dtype=torch.float64)  # [i, j] = y_i . y_j
        self.rho = torch.zeros(batch, size, device=device, dtype=torch.float64)  # 1 / (s_i . y_i); 0: empty slot
        self.scale = torch.ones(batch, device=device, dtype=torch.float64)  # gamma of the latest pair
        self.next = torch.zeros(batch, device=device, dtype=torch.long)  # the slot the next pair goes to (oldest)
        self._rows = torch.arange(batch, device=device)
        self._slots = torch.arange(size, device=device)

    def forget(self) -> None:
        """Drop every pair, in place (a new memory would hold a second history-sized buffer until the
        first is freed)."""
        for kept in (self.pairs, self.sy, self.yy, self.rho, self.next):
            kept.zero_()
        self.scale.fill_(1.0)

    def update(self, step: torch.Tensor, change: torch.Tensor) -> None:
        """Remember s = `step`, y = `change` (k, n) where s . y > CURVATURE_MIN; keep the old pairs elsewhere."""
        rows, slot, m = self._rows, self.next, self.size
        ys = (step * change).sum(-1, dtype=torch.float64)  # (k,)
        keep = ys > CURVATURE_MIN  # (k,)
        new = torch.stack([step, change], 1)  # (k, 2, n)
        at = torch.stack([slot, slot + m], 1)  # (k, 2): the rows of s and y in `pairs`
        self.pairs[rows[:, None], at] = torch.where(keep[:, None, None], new, self.pairs[rows[:, None], at])
        products = torch.bmm(self.pairs, new.mT).double()  # (k, 2m, 2): [S s, S y; Y s, Y y]
        s_y, y_s, y_y = products[:, :m, 1], products[:, m:, 0], products[:, m:, 1]  # (k, m) each
        self._write(self.sy, slot, keep, column=s_y, row=y_s)
        self._write(self.yy, slot, keep, column=y_y, row=y_y)
        yy_new = y_y.gather(1, slot[:, None])[:, 0]
        self.rho[rows, slot] = torch.where(keep, 1.0 / torch.where(keep, ys, 1.0), self.rho[rows, slot])
        self.scale = torch.where(keep, ys / torch.where(keep, yy_new, 1.0), self.scale)
        self.next = torch.where(keep, (slot + 1) % m, slot)

    def _write(self, matrix: torch.Tensor, slot: torch.Tensor, keep: torch.Tensor, column: torch.Tensor,
               row: torch.Tensor) -> None:  # fmt: skip
        """Column `slot` of `matrix` (k, m, m) := column, then row `slot` := row, where `keep`."""
        rows = self._rows
        matrix[rows, :, slot] = torch.where(keep[:, None], column, matrix[rows, :, slot])
        matrix[rows, slot, :] = torch.where(keep[:, None], row, matrix[rows, slot, :])

    def direction(self, grad: torch.Tensor) -> torch.Tensor:
        """-H g for gradients (k, n), the compact form of the two-loop recursion (module docstring)."""
        m = self.size
        order = (self.next[:, None] + self._slots) % m  # (k, m): slots from the oldest pair to the newest
        projections = torch.bmm(self.pairs, grad[:, :, None]).double()[..., 0]  # (k, 2m): S g, Y g
        a, b = projections[:, :m].gather(1, order), projections[:, m:].gather(1, order)  # (k, m), time order
        rho, gamma = self.rho.gather(1, order), self.scale[:, None]  # (k, m), (k, 1)
        sy, yy = _ordered(self.sy, order), _ordered(self.yy, order)  # (k, m, m) each
        eye = torch.eye(m, device=grad.device, dtype=torch.float64)
        upper = eye + rho[:, :, None] * sy.triu(1)
        alpha = torch.linalg.solve_triangular(upper, (-rho * a)[..., None], upper=True, unitriangular=True)
        lower_part = sy.mT.tril(-1)  # [i, j] = y_i . s_j for j < i
        right = rho[..., None] * (gamma[..., None] * (-b[..., None] - yy @ alpha) + lower_part @ alpha)
        beta = torch.linalg.solve_triangular(eye + rho[:, :, None] * lower_part, right, upper=False,
                                             unitriangular=True)  # fmt: skip
        coefficients = torch.cat([alpha - beta, -gamma[..., None] * alpha], 1)[..., 0]  # (k, 2m), time order
        by_slot = torch.empty_like(coefficients).scatter_(1, torch.cat([order, order + m], 1), coefficients)
        combined = torch.bmm(by_slot.to(grad.dtype)[:, None, :], self.pairs)[:, 0]  # (k, n)
        return combined.sub_(grad * self.scale.to(grad.dtype)[:, None])


def _ordered(matrix: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """(k, m, m) by slot -> by time: rows and columns both permuted by `order` (k, m)."""
    m = order.shape[1]
    rows = matrix.gather(1, order[:, :, None].expand(-1, -1, m))
    return rows.gather(2, order[:, None, :].expand(-1, m, -1))
