# The MNIST app in a container: the server, the two models, no data set and no tests.
#   docker build -t mnist-app .
#   docker run -p 8501:8501 -v mnist-data:/data mnist-app
# /data keeps the collection (SQLite), MNIST once downloaded (the Data, Evaluation and Train tabs)
# and the Data tab's maps. Give MNIST_COLLECTION a postgresql:// URL to share one collection
# between several containers. .ci/image-check runs these steps as a script (no registry in CI).
FROM python:3.11.7-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
ENV MNIST_COLLECTION=/data/collected.sqlite3 KERAS_HOME=/data/keras MNIST_CACHE=/data/cache

RUN useradd --create-home --uid 10001 --user-group app
RUN mkdir -p /data && chown app:app /data
WORKDIR /srv/mnist
COPY requirements-serve.txt ./
RUN pip install -r requirements-serve.txt
COPY .streamlit/ .streamlit/
COPY mnist_core/ mnist_core/
COPY app/ app/
COPY models/ models/

USER app
VOLUME /data
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"
CMD ["streamlit", "run", "app/serve.py", "--server.address=0.0.0.0", "--server.port=8501"]
