#!/bin/sh
# Entrypoint of the uniqodo-mock image.
#
#   (no arguments)            uniqodo-mock up: the mock on :8080, the receiver on :8090, wired
#   -OPTION ...               options of `up` (docker run IMAGE --reset-fixtures)
#   up|serve|receiver ...     that command, listening on every interface of the container
#   COMMAND ...               any other uniqodo-mock command (contract, calls, admin, ...)
#   PROGRAM ...               any other program, run as given (sh, python, uniqodo-mock-subscribe)
#
# UNIQODO_MOCK_ADMIN_TOKEN protects /__admin (up, serve) and, unless UNIQODO_RECEIVER_TOKEN says
# otherwise, the receiver's /__receiver too, as `up` does with one token.
set -eu

# The top-level commands of `uniqodo-mock --help` (tests/test_deploy_files.py keeps them equal).
uniqodo_mock_commands="admin calls codes contract fixtures receiver serve up"

if [ -n "${UNIQODO_MOCK_ADMIN_TOKEN:-}" ] && [ -z "${UNIQODO_RECEIVER_TOKEN:-}" ]; then
    UNIQODO_RECEIVER_TOKEN=$UNIQODO_MOCK_ADMIN_TOKEN
    export UNIQODO_RECEIVER_TOKEN
fi

if [ "$#" -eq 0 ]; then
    set -- up
fi

case "$1" in
    -h | --help | --version)
        exec uniqodo-mock "$@"
        ;;
    -*)
        set -- up "$@"
        ;;
esac

case "$1" in
    up | serve | receiver)
        # 127.0.0.1 inside a container is out of reach of published ports: bind every
        # interface. A --host given on the command line comes later, and the last one wins.
        command=$1
        shift
        exec uniqodo-mock "$command" --host 0.0.0.0 "$@"
        ;;
esac

for command in $uniqodo_mock_commands; do
    if [ "$1" = "$command" ]; then
        exec uniqodo-mock "$@"
    fi
done

exec "$@"
