# One image for both tools: trioload (the entry point) and trioserve (its example target).
#   docker build -t trioload:0.1.0 .
#   docker run --rm --network host trioload:0.1.0 -c 100 -n 10000 http://127.0.0.1:60000/
#   docker run --rm -p 60000:60000 --entrypoint trioserve trioload:0.1.0
# Open files: trioload lifts its soft RLIMIT_NOFILE to the hard limit itself, and needs about
# one descriptor a connection (-c). Container runtimes usually grant a hard limit of 524288 or
# more; where one grants less, give it more (docker run --ulimit nofile=65536:65536).

# Wheels for the package and its dependencies, built where a compiler is at hand: a platform
# without a published wheel for one of them (hdrhistogram has a C part) still builds.
FROM python:3.12-slim AS wheels
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY trioload trioload
COPY trioserve trioserve
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# The image: the wheels installed, nothing of the build left, and a user of its own so that
# neither tool runs as root.
FROM python:3.12-slim
COPY --from=wheels /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin load
USER 10001

EXPOSE 60000
ENTRYPOINT ["trioload"]
CMD ["--help"]
