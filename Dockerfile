# syntax=docker/dockerfile:1
# ScanService on CPU: docker build -t scanservice . && docker run -p 8080:8080 -p 8081:8081 scanservice
# REST, Swagger UI and /metrics on 8080 (HTTP/1.1), gRPC on 8081 (HTTP/2 cleartext). The default model bundle
# (models/fashion-mnist) is inside; mount another and set Model__BundlePath to serve it.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, from the project files alone, so that the package layer is reused while only code changes.
# global.json stays out: it pins the developers' SDK feature band, which the SDK image need not have.
COPY .editorconfig Directory.Build.props Directory.Packages.props ./
COPY src/ScanService.Core/ScanService.Core.csproj src/ScanService.Core/
COPY src/ScanService.Api/ScanService.Api.csproj src/ScanService.Api/
# The CPU flavour of ONNX Runtime: no CUDA provider in the image (see OnnxRuntimeFlavour in Directory.Build.props).
ARG ONNXRUNTIME_FLAVOUR=cpu
RUN dotnet restore src/ScanService.Api/ScanService.Api.csproj --runtime linux-x64 -p:OnnxRuntimeFlavour=$ONNXRUNTIME_FLAVOUR
COPY protos/ protos/
COPY models/fashion-mnist/ models/fashion-mnist/
COPY src/ScanService.Core/ src/ScanService.Core/
COPY src/ScanService.Api/ src/ScanService.Api/
RUN dotnet publish src/ScanService.Api/ScanService.Api.csproj --configuration Release --runtime linux-x64 \
      --self-contained false --no-restore -p:OnnxRuntimeFlavour=$ONNXRUNTIME_FLAVOUR --output /app

# The ASP.NET Core runtime on Ubuntu. curl is added for the HEALTHCHECK: it is the standard probe, Docker and
# compose run it as is, and it keeps container tooling out of the service's code (the chiseled image, with no
# shell and no curl, would need a probe mode built into the service for this alone).
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
RUN apt-get update \
    && apt-get install --yes --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app ./
# appsettings.json binds both ports itself; the image's ASPNETCORE_HTTP_PORTS would only add a warning.
ENV ASPNETCORE_HTTP_PORTS= \
    DOTNET_NOLOGO=1 \
    Model__ExecutionProvider=Cpu
EXPOSE 8080 8081
# The non-root user Microsoft's .NET images define (app, UID 1654).
USER $APP_UID
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["curl", "--fail", "--silent", "--output", "/dev/null", "http://127.0.0.1:8080/v2/health/ready"]
ENTRYPOINT ["dotnet", "ScanService.Api.dll"]
