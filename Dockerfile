# The app image. Migrations run in the compose `migrate` service before the app starts.
FROM node:20-slim AS frontend
WORKDIR /build
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM python:3.11-slim AS app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /srv/yingzhi
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install --no-cache-dir .
COPY alembic.ini ./
COPY migrations ./migrations
COPY question_bank ./question_bank
COPY --from=frontend /build/dist ./frontend/dist
RUN useradd --system --uid 10001 yingzhi && mkdir -p var && chown yingzhi var
USER yingzhi
EXPOSE 8000
CMD ["yingzhi", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
