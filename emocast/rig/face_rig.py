"""The face rig of one portrait: its neutral face, its AU basis and the displacement budget."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..face.model import FaceModel
from .basis import au_basis
from .neutral import close_mouth_field, neutral_corners_field
from .units import AU_INDEX


@dataclass(frozen=True)
class RigConfig:
    """Tuned constants of the rig.

    Attributes:
        displacement_budget: largest RMS landmark displacement, in interocular units, that bringing
            the portrait to neutral and the expression may add up to (:meth:`FaceRig.expression_gain`).
            Set on the fixture portraits with dlib's identity distance as the guide: above it a strong
            expression on an already neutralised face (fear on a toothy smile) drifts past 0.5.
        min_expression_gain: the expression is never weakened below this share of its strength, so
            the emotion still shows (unitless).
        neutralised_brows: AUs of the portrait's own brow pose undone before animating (its raised or
            lowered brows are taken back by their estimated activation).
    """

    displacement_budget: float = 0.098
    min_expression_gain: float = 0.5
    neutralised_brows: tuple[str, ...] = ("AU1", "AU2", "AU4")


class FaceRig:
    """The portrait's face as the motion and render stages drive it.

    The portrait is first brought to its own neutral (mouth closed, corners level, brows back:
    :func:`~emocast.rig.neutral.close_mouth_field`, :func:`~emocast.rig.neutral.neutral_corners_field`
    and the estimated brow AUs undone), and expressions act on that neutral face: the AU basis is built
    on it, not on the photo's own expression (DESIGN.md, "drive the face from its estimated current
    expression").

    Args:
        face: the analysed portrait (landmarks in output pixels).
        config: tuned constants.

    Attributes:
        face: the portrait's :class:`FaceModel`.
        neutral: ``float32 (478, 2)`` face-normalised displacement from the photo to its neutral face.
        basis: ``float32 (n_AU, 478, 2)`` AU displacement fields built on the neutral face.
    """

    def __init__(self, face: FaceModel, config: RigConfig = RigConfig()):
        self.face = face
        self.config = config
        est = face.expression
        basis = au_basis(face)
        neutral = close_mouth_field(face, basis) + neutral_corners_field(face)
        for name in config.neutralised_brows:
            neutral -= est.get(name, 0.0) * basis[AU_INDEX[name]]
        self.neutral = neutral
        self.basis = au_basis(face.moved(neutral))

    def expression_gain(self, expression: np.ndarray, budget: float | None = None) -> float:
        """Gain on an expression that keeps the face within the displacement budget of the portrait.

        The further a face is warped from the photo, the less it looks like the person in it. A
        portrait that had to be brought to neutral first has already moved; a strong expression on top
        can move it past recognition. Both moves are counted as the RMS displacement of the 478
        landmarks; when their sum passes the budget the expression is scaled down, never below
        :attr:`RigConfig.min_expression_gain`.

        Args:
            expression: ``float (T, n_AU)`` or ``(n_AU,)`` expression activations (no speech, no blinks).
            budget: interocular units (default :attr:`RigConfig.displacement_budget`).

        Returns:
            Gain in ``[min_expression_gain, 1]``.
        """
        budget = self.config.displacement_budget if budget is None else budget
        rms = lambda d: np.sqrt((d ** 2).sum(-1).mean(-1))  # noqa: E731
        moved = float(rms(self.neutral))
        expr = float(np.max(rms(np.tensordot(np.atleast_2d(expression), self.basis, axes=1)), initial=0.0))
        if moved + expr <= budget:
            return 1.0
        return float(np.clip((budget - moved) / expr, self.config.min_expression_gain, 1.0))
