FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY services ./services
COPY workers ./workers
COPY classifiers ./classifiers
COPY protocols ./protocols
RUN pip install --no-cache-dir -e .
ENV LIVESCREEN_HOST=0.0.0.0
EXPOSE 8000
CMD ["livescreen", "serve", "--host", "0.0.0.0", "--port", "8000"]
