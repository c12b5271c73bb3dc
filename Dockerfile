# The relay silo. Built from the repository root:  docker build -t outbox-relay .
# The native Kafka client comes from NuGet (librdkafka.redist, with Confluent.Kafka) into the publish folder's
# runtimes/<rid>/native; on the Debian-based runtime image Confluent.Kafka loads its self-contained build.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
WORKDIR /src
# Restore first, from the project files only, so the layer is reused until a dependency changes.
COPY Directory.Build.props Directory.Packages.props ./
COPY src/Package.props src/
COPY src/Outbox.Contracts/Outbox.Contracts.csproj src/Outbox.Contracts/
COPY src/Outbox.Grains/Outbox.Grains.csproj src/Outbox.Grains/
COPY src/Outbox.Inbox/Outbox.Inbox.csproj src/Outbox.Inbox/
COPY src/Outbox.Silo/Outbox.Silo.csproj src/Outbox.Silo/
RUN dotnet restore src/Outbox.Silo/Outbox.Silo.csproj
COPY src/ src/
RUN dotnet publish src/Outbox.Silo/Outbox.Silo.csproj -c Release --no-restore -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app ./
# Listen on every interface (appsettings.json binds loopback for development). Configuration otherwise
# comes from the environment: Outbox__ConnectionString, Kafka__BootstrapServers, Cluster__AdvertisedAddress, ...
ENV Urls=http://+:8080 \
    DOTNET_gcServer=0
# HTTP, Orleans silo-to-silo, Orleans gateway (cluster clients).
EXPOSE 8080 11111 30000
# The numeric id of the image's app user (1654), so Kubernetes can verify runAsNonRoot.
USER $APP_UID
# No curl in the runtime image: bash's /dev/tcp asks /health/ready for a 200.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health/ready HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["dotnet", "Outbox.Silo.dll"]
CMD ["silo"]
