# One image for both tools: trioload (the entry point) and trioserve (its example target).
#   docker build -t trioload:0.1.0 .
#   docker run --rm --network host trioload:0.1.0 -c 100 -n 10000 http://127.0.0.1:60000/
#   docker run --rm -p 60000:60000 --entrypoint trioserve trioload:0.1.0
# Open files: trioload lifts its soft RLIMIT_NOFILE to the hard limit itself, and needs about
# one descriptor a connection (-c). Container runtimes usually grant a hard limit of 1048576;
# where one grants less, give it more (docker run --ulimit nofile=65536:65536).
FROM python:3.12-slim

WORKDIR /src
COPY pyproject.toml README.md ./
COPY trioload trioload
COPY trioserve trioserve
# The package from this repository, with no build tools left behind; then a user of its own,
# so that neither tool runs as root.
RUN pip install --no-cache-dir . \
    && rm -rf /src \
    && useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin load
WORKDIR /
USER 10001

EXPOSE 60000
ENTRYPOINT ["trioload"]
CMD ["--help"]
