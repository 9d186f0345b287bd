"""Named landmark groups of MediaPipe Face Mesh (478 points with refined irises).

Indices follow MediaPipe's canonical face mesh (``mediapipe/python/solutions/face_mesh_connections``).
"Right"/"left" are the subject's own sides (right eye appears on the image's left).
"""
from __future__ import annotations

import numpy as np

N_LANDMARKS = 478

LIPS_OUTER_UPPER = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291]
LIPS_OUTER_LOWER = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291]
LIPS_INNER_UPPER = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308]
LIPS_INNER_LOWER = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308]
# Closed contours (corner, upper lip, other corner, lower lip back), for polygons.
LIPS_OUTER_RING = LIPS_OUTER_UPPER + LIPS_OUTER_LOWER[::-1][1:-1]
LIPS_INNER_RING = LIPS_INNER_UPPER + LIPS_INNER_LOWER[::-1][1:-1]
# All points of the upper and lower lip bodies (outer + inner rings and the points between them).
UPPER_LIP = sorted(set(LIPS_OUTER_UPPER[1:-1] + LIPS_INNER_UPPER[1:-1] + [42, 41, 38, 72, 12, 302, 268, 271, 272, 183, 184, 74, 73, 11, 303, 304, 408, 407]))
LOWER_LIP = sorted(set(LIPS_OUTER_LOWER[1:-1] + LIPS_INNER_LOWER[1:-1] + [77, 90, 180, 85, 16, 315, 404, 320, 307, 96, 89, 179, 86, 15, 316, 403, 319, 325]))
MOUTH_CORNERS = (61, 291)
LIP_INNER_TOP = 13
"""Middle of the upper lip's inner edge."""
LIP_INNER_BOTTOM = 14
"""Middle of the lower lip's inner edge."""
INNER_CORNERS = (78, 308)

RIGHT_EYE_UPPER = [246, 161, 160, 159, 158, 157, 173]
RIGHT_EYE_LOWER = [7, 163, 144, 145, 153, 154, 155]
RIGHT_EYE_CORNERS = (33, 133)
LEFT_EYE_UPPER = [466, 388, 387, 386, 385, 384, 398]
LEFT_EYE_LOWER = [249, 390, 373, 374, 380, 381, 382]
LEFT_EYE_CORNERS = (263, 362)
# Second ring around each eye (upper lid skin up to the crease).
RIGHT_LID_UPPER_OUTER = [247, 30, 29, 27, 28, 56, 190]
LEFT_LID_UPPER_OUTER = [467, 260, 259, 257, 258, 286, 414]
RIGHT_IRIS = list(range(468, 473))
LEFT_IRIS = list(range(473, 478))
RIGHT_IRIS_CENTRE = RIGHT_IRIS[0]
LEFT_IRIS_CENTRE = LEFT_IRIS[0]

RIGHT_BROW = [70, 63, 105, 66, 107, 46, 53, 52, 65, 55]
LEFT_BROW = [300, 293, 334, 296, 336, 276, 283, 282, 295, 285]
RIGHT_BROW_INNER = [107, 66, 55, 65]
LEFT_BROW_INNER = [336, 296, 285, 295]
RIGHT_BROW_OUTER = [70, 63, 46, 53]
LEFT_BROW_OUTER = [300, 293, 276, 283]

FACE_OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148,
             176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109]
CHIN = 152
FOREHEAD = 10
NOSE_TIP = 1
NOSE_ROOT = 168
NOSE_ALAE = (129, 358)
CHEEKS = (205, 425)
LIP_OUTER_BOTTOM = 17
"""Middle of the lower lip's outer edge."""
RIGHT_BROW_LOWER = RIGHT_BROW[5:]
"""Lower edge of the subject's right brow (over the upper lid), outer end first."""
LEFT_BROW_LOWER = LEFT_BROW[5:]
"""Lower edge of the subject's left brow (over the upper lid), outer end first."""
NOSE_BRIDGE = [168, 6, 197, 195]
"""Midline of the nose bridge from its root between the eyes downwards."""


def eye_centres(lm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centres of the subject's right and left eye (iris centres 468 and 473), shape ``(2,)`` each."""
    return lm[RIGHT_IRIS_CENTRE, :2], lm[LEFT_IRIS_CENTRE, :2]
