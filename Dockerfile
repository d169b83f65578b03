# gesture-audit without the repository: slim Python, the project's wheel (models inside), a non-root user.
#   docker build -t gesture-audit .
#   docker run --rm -v "$PWD/foto:/data:ro" gesture-audit check /data/photo.jpg
#   docker run --rm -v "$PWD/foto:/data:ro" -v "$PWD/audit:/out" gesture-audit scan /data --out /out
#   docker run --rm -p 8080:8080 -v "$PWD/tokens:/tokens:ro" gesture-audit serve --host 0.0.0.0 --token-file /tokens

FROM python:3.11-slim AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY gesture_audit ./gesture_audit
RUN pip wheel --no-cache-dir --no-deps -w /wheels .

FROM python:3.11-slim
COPY --from=wheel /wheels /wheels
RUN pip install --no-cache-dir "$(ls /wheels/gesture_audit-*.whl)[serve,heif]" && rm -rf /wheels \
    && useradd --create-home --uid 10001 auditor
USER auditor
WORKDIR /home/auditor
EXPOSE 8080
ENTRYPOINT ["gesture-audit"]
CMD ["--help"]
