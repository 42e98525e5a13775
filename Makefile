# GAN Course. Two commands do everything:
#   make book   install what is needed, then build the HTML book (notebooks executed)
#   make test   install what is needed, then unit tests + nbval on every notebook + the -W book build
PYTHON ?= python3
PIP    := PIP_ROOT_USER_ACTION=ignore $(PYTHON) -m pip

.PHONY: install book test unit notebooks student times clean

install:
	$(PIP) install --quiet --disable-pip-version-check -r requirements.txt
	$(PIP) install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .

book: install
	$(PYTHON) -c "import sys; from jupyter_book.cli.main import main; sys.exit(main())" build . -W -n --keep-going
	@echo "The book is in _build/html/index.html"

# Everything in one pytest run: unit tests, then nbval on every notebook, then the book build (-W).
test: install
	GANCOURSE_PROFILE=quick MPLBACKEND=agg $(PYTHON) -m pytest tests notebooks \
		--nbval-lax --nbval-current-env --durations=15

unit:
	GANCOURSE_PROFILE=quick MPLBACKEND=agg $(PYTHON) -m pytest tests -m "not book and not colab"

notebooks:
	GANCOURSE_PROFILE=quick MPLBACKEND=agg $(PYTHON) -m pytest notebooks --nbval-lax --nbval-current-env

# Student copies of every notebook (solutions removed), for instructors. Not part of the book.
student:
	$(PYTHON) -m gancourse.exercises make-student notebooks student

times:
	GANCOURSE_PROFILE=quick $(PYTHON) benchmarks/notebook_times.py

clean:
	rm -rf _build student .pytest_cache
