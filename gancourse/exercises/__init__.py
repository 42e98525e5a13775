"""Exercise checks: each ``check_*`` passes on a right answer and raises ExerciseError naming the mistake.

Student versions of the notebooks: ``python -m gancourse.exercises make-student SRC DEST``.
With ``GANCOURSE_HIDDEN_TESTS=1`` in the environment (nbgrader's hidden-test mode), a failure
message says what failed but shows no expected value.
"""

from gancourse.exercises._check import ExerciseError
from gancourse.exercises.ch01 import *  # noqa: F403
from gancourse.exercises.ch01 import __all__ as _ch01
from gancourse.exercises.ch02 import *  # noqa: F403
from gancourse.exercises.ch02 import __all__ as _ch02
from gancourse.exercises.ch03 import *  # noqa: F403
from gancourse.exercises.ch03 import __all__ as _ch03
from gancourse.exercises.ch04 import *  # noqa: F403
from gancourse.exercises.ch04 import __all__ as _ch04
from gancourse.exercises.ch05 import *  # noqa: F403
from gancourse.exercises.ch05 import __all__ as _ch05
from gancourse.exercises.ch06 import *  # noqa: F403
from gancourse.exercises.ch06 import __all__ as _ch06
from gancourse.exercises.ch07 import *  # noqa: F403
from gancourse.exercises.ch07 import __all__ as _ch07
from gancourse.exercises.ch08 import *  # noqa: F403
from gancourse.exercises.ch08 import __all__ as _ch08
from gancourse.exercises.ch09 import *  # noqa: F403
from gancourse.exercises.ch09 import __all__ as _ch09
from gancourse.exercises.ch10 import *  # noqa: F403
from gancourse.exercises.ch10 import __all__ as _ch10
from gancourse.exercises.ch11 import *  # noqa: F403
from gancourse.exercises.ch11 import __all__ as _ch11

__all__ = ["ExerciseError", *_ch01, *_ch02, *_ch03, *_ch04, *_ch05, *_ch06, *_ch07, *_ch08, *_ch09, *_ch10, *_ch11]
