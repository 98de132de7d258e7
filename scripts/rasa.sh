#!/usr/bin/env bash
# Rasa 3.6 backend for kamidesk's NLU, in its own Python 3.10 virtualenv OUTSIDE the repository
# (Rasa does not install on Python 3.11, and its SQLAlchemy 1.x pin conflicts with ours).
#
#   bash scripts/rasa.sh install          create the venv and install rasa==3.6.* + jieba
#   bash scripts/rasa.sh train            train an NLU model from nlu/data/train (skipped when
#                                         a model for the same data + config already exists)
#   bash scripts/rasa.sh serve            train if needed, then serve on $RASA_HOST:$RASA_PORT
#                                         with --enable-api and token auth ($RASA_TOKEN)
#   bash scripts/rasa.sh test [FILE]      rasa test nlu on the held-out file
#   bash scripts/rasa.sh cross-validate N rasa test nlu --cross-validation on the training data
#   bash scripts/rasa.sh model            print the path of the current model (exit 1 if none)
#
# Environment: KAMIDESK_RASA_HOME (default ~/.cache/kamidesk/rasa), RASA_PYTHON (a python3.10),
# RASA_HOST (127.0.0.1), RASA_PORT (5005), RASA_TOKEN (default: a development token).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RASA_HOME="${KAMIDESK_RASA_HOME:-$HOME/.cache/kamidesk/rasa}"
VENV="$RASA_HOME/venv"
MODELS="$RASA_HOME/models"
CONFIG="$ROOT/nlu/rasa/config.yml"
TRAIN_DATA="$ROOT/nlu/data/train"
TEST_DATA="$ROOT/nlu/data/test/test.yml"
RASA_VERSION_SPEC="rasa==3.6.*"
HOST="${RASA_HOST:-127.0.0.1}"
PORT="${RASA_PORT:-5005}"
export RASA_TELEMETRY_ENABLED=false
export SQLALCHEMY_SILENCE_UBER_WARNING=1

log() { printf 'rasa.sh: %s\n' "$*" >&2; }

is_python310() {
    [[ -n "$1" ]] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null
}

find_python310() {
    local candidate
    if [[ -n "${RASA_PYTHON:-}" ]]; then
        is_python310 "$RASA_PYTHON" && { echo "$RASA_PYTHON"; return; }
        log "RASA_PYTHON=$RASA_PYTHON is not a working Python 3.10"
        exit 1
    fi
    # A pyenv shim can exist without a usable 3.10 behind it, so try each candidate.
    for candidate in "$(command -v python3.10 || true)" \
        $(command -v pyenv >/dev/null 2>&1 && ls -d "$(pyenv root)"/versions/3.10.*/bin/python 2>/dev/null); do
        if is_python310 "$candidate"; then echo "$candidate"; return; fi
    done
    log "no Python 3.10 found: install one (e.g. pyenv install 3.10) or set RASA_PYTHON"
    exit 1
}

install() {
    if [[ -x "$VENV/bin/rasa" && -f "$VENV/.kamidesk-installed" ]]; then
        return
    fi
    local python
    python="$(find_python310)"
    log "creating $VENV with $python (rasa is large: this takes several minutes once)"
    mkdir -p "$RASA_HOME"
    "$python" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip setuptools wheel
    "$VENV/bin/python" -m pip install --quiet "$RASA_VERSION_SPEC" jieba
    touch "$VENV/.kamidesk-installed"
}

data_hash() {
    # Same data + same pipeline -> same model name -> no retraining.
    (cd "$ROOT" && find nlu/data/train -type f \( -name '*.yml' -o -name '*.yaml' \) \
        | LC_ALL=C sort | xargs cat nlu/rasa/config.yml | sha256sum | cut -c1-16)
}

model_path() { echo "$MODELS/nlu-$(data_hash).tar.gz"; }

train() {
    install
    local model
    model="$(model_path)"
    if [[ -f "$model" ]]; then
        log "model up to date: $model"
        return
    fi
    mkdir -p "$MODELS"
    log "training $model"
    (cd "$RASA_HOME" && "$VENV/bin/rasa" train nlu --config "$CONFIG" --nlu "$TRAIN_DATA" \
        --out "$MODELS" --fixed-model-name "nlu-$(data_hash)")
    [[ -f "$model" ]] || { log "training produced no model"; exit 1; }
    # Keep the three newest models (each data change makes a new one).
    find "$MODELS" -maxdepth 1 -name 'nlu-*.tar.gz' -printf '%T@ %p\n' | sort -rn \
        | tail -n +4 | cut -d' ' -f2- | xargs -r rm -f
}

serve() {
    train
    local token="${RASA_TOKEN:-kamidesk-dev-token}"
    [[ -n "${RASA_TOKEN:-}" ]] || log "RASA_TOKEN not set: using the development token"
    log "serving $(model_path) on http://$HOST:$PORT"
    cd "$RASA_HOME"
    exec "$VENV/bin/rasa" run --enable-api --auth-token "$token" -i "$HOST" -p "$PORT" \
        -m "$(model_path)"
}

run_test() {
    train
    local file="${1:-$TEST_DATA}"
    cd "$RASA_HOME"
    "$VENV/bin/rasa" test nlu --nlu "$file" -m "$(model_path)" --out "$RASA_HOME/results"
}

cross_validate() {
    install
    cd "$RASA_HOME"
    "$VENV/bin/rasa" test nlu --nlu "$TRAIN_DATA" --config "$CONFIG" --cross-validation \
        --folds "${1:-5}" --out "$RASA_HOME/results-cv"
}

case "${1:-}" in
    install) install ;;
    train) train ;;
    serve) serve ;;
    test) shift; run_test "$@" ;;
    cross-validate) shift; cross_validate "$@" ;;
    model) m="$(model_path)"; [[ -f "$m" ]] && echo "$m" || exit 1 ;;
    *) sed -n '2,15p' "$0" >&2; exit 2 ;;
esac
