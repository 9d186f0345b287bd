"""The face rig: the AU vocabulary, AU displacement fields, the fields that undo the portrait's own
expression, the displacement budget and the teeth visibility.

A leaf of the stage packages (it reads only :mod:`emocast.face`): the emotion stage maps emotions to
its AUs, the motion stage composes AU curves and the render stage moves landmarks with its basis.
"""
from .basis import au_basis
from .face_rig import FaceRig, RigConfig
from .neutral import close_mouth_field, neutral_corners_field
from .teeth import SHADED_TEETH, teeth_light, teeth_rows
from .units import AU_INDEX, AU_NAMES

__all__ = ["AU_NAMES", "AU_INDEX", "au_basis", "FaceRig", "RigConfig", "close_mouth_field",
           "neutral_corners_field", "SHADED_TEETH", "teeth_light", "teeth_rows"]
