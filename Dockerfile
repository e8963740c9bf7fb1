# Build: docker build -t overseer .
# Run:   docker run -p 8080:8080 -e OVERSEER_REPO=https://git.example.com/ops/jobs.git \
#          -v /srv/overseer/tokens:/etc/overseer/tokens:ro -v overseer-data:/var/lib/overseer overseer
FROM eclipse-temurin:25-jdk AS build
WORKDIR /src
COPY .mvn .mvn
COPY mvnw pom.xml ./
RUN ./mvnw -B -q dependency:go-offline
COPY src src
# The job-side helpers are resources of the jar: the server installs them into <data>/lib.
COPY lib-scripts lib-scripts
# The release bundle (bin/overseer and the jar) takes the unit, README and LICENSE along.
COPY contrib contrib
COPY README.rst LICENSE ./
RUN ./mvnw -B -q package -DskipTests

FROM eclipse-temurin:25-jre
# tini is PID 1: it passes SIGTERM on to the server and reaps processes that are not the
# server's descendants (docker exec sessions); the server itself reaps its jobs as a subreaper.
# curl answers the health check.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /var/lib/overseer --create-home overseer
COPY --from=build /src/target/overseer-*.tar.gz /tmp/
RUN tar xzf /tmp/overseer-*.tar.gz -C /opt && mv /opt/overseer-* /opt/overseer && rm /tmp/overseer-*.tar.gz
# Unprivileged by default: jobs then run with the server's rights (README, "Threat model").
# To run jobs as another account, run as root with OVERSEER_JOB_USER set instead.
USER overseer
ENV OVERSEER_DATA=/var/lib/overseer \
    OVERSEER_LISTEN=0.0.0.0:8080 \
    OVERSEER_TOKENS=/etc/overseer/tokens
VOLUME /var/lib/overseer
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD curl -fsS http://127.0.0.1:8080/ready > /dev/null || exit 1
ENTRYPOINT ["/usr/bin/tini", "--", "/opt/overseer/bin/overseer"]
CMD ["serve"]
