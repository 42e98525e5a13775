"""``python -m gancourse.exercises make-student SRC DEST``: write student versions of notebooks."""

from gancourse.exercises.student import main

raise SystemExit(main())
