# One image recipe for every service: `docker build --build-arg SERVICE=monitor --build-arg EXTRAS=telemetry,s3 .`
FROM python:3.11-slim

ARG SERVICE
ARG EXTRAS=s3
# torch is pinned to 2.13.0; the CPU index keeps images that need it small. Point it elsewhere for CUDA.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# vLLM, the model server's GPU engine (infra/k8s/overlays/gpu), is no extra: name it here, with a vLLM
# that pins the same torch (see the Makefile), and a CUDA TORCH_INDEX_URL.
ARG VLLM_PACKAGE=

RUN test -n "${SERVICE}" || (echo "build with --build-arg SERVICE=<name>" && false)
RUN useradd --create-home --uid 10001 llmops

WORKDIR /app
COPY pyproject.toml README.md ./
COPY libs ./libs
COPY services ./services
COPY infra ./infra
RUN pip install --no-cache-dir --extra-index-url "${TORCH_INDEX_URL}" ".[${EXTRAS}]"
# vLLM caps fastapi below this project's pin, so the project is installed again after it and its pins win.
RUN if [ -n "${VLLM_PACKAGE}" ]; then \
      pip install --no-cache-dir --extra-index-url "${TORCH_INDEX_URL}" "${VLLM_PACKAGE}" && \
      pip install --no-cache-dir --extra-index-url "${TORCH_INDEX_URL}" ".[${EXTRAS}]"; \
    fi

ENV SERVICE=${SERVICE} \
    PYTHONUNBUFFERED=1 \
    LLMOPS_HTTP_HOST=0.0.0.0 \
    LLMOPS_DATA_DIR=/data \
    LLMOPS_CLICKHOUSE_MIGRATIONS_DIR=/app/infra/clickhouse
RUN mkdir -p /data && chown llmops /data
USER llmops
VOLUME ["/data"]

# SIGTERM reaches Python directly (exec form through sh -c's exec), which drains and exits cleanly.
CMD ["sh", "-c", "exec python -m services.${SERVICE}"]
