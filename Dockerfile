# Build: docker build -t overseer .
# Run:   docker run -p 8080:8080 -e OVERSEER_REPO=https://git.example.com/ops/jobs.git \
#          -v /srv/overseer/tokens:/etc/overseer/tokens:ro -v overseer-data:/var/lib/overseer overseer
FROM eclipse-temurin:25-jdk AS build
WORKDIR /src
COPY .mvn .mvn
COPY mvnw pom.xml ./
RUN ./mvnw -B -q dependency:go-offline
COPY src src
RUN ./mvnw -B -q package -DskipTests

FROM eclipse-temurin:25-jre
RUN useradd --system --home-dir /var/lib/overseer --create-home overseer
COPY --from=build /src/target/overseer.jar /opt/overseer/overseer.jar
COPY lib-scripts /opt/overseer/lib-scripts
USER overseer
ENV OVERSEER_DATA=/var/lib/overseer \
    OVERSEER_LISTEN=0.0.0.0:8080 \
    OVERSEER_TOKENS=/etc/overseer/tokens
VOLUME /var/lib/overseer
EXPOSE 8080
ENTRYPOINT ["java", "-jar", "/opt/overseer/overseer.jar"]
CMD ["serve"]
