# Logos' sandbox image for OpenShell: what the Logos worker and an agent's tools need.
#   logos image build                → logos-sandbox:<logos version>, for a gateway on this machine
#   logos image push <registry>/...  → for remote gateways (pinned by digest in config)
# OpenShell 0.1.x needs it (its default image, nvcr.io/nvidia/base/ubuntu:24.04, has no Node);
# on 0.0.x the community base image works too.
#
# - node: the worker (the provider profiles Logos imports allow /usr/local/bin/node and
#   /usr/bin/node to reach the model endpoint);
# - sh and bash: `sandbox exec` runs commands through bash;
# - tar: `sandbox upload` unpacks through it; git and coreutils for the agent's tools.
# - a non-root user `sandbox` (UID 1000) with its home and workdir at /sandbox: OpenShell refuses
#   images that run as root, and Logos' policy names that user.
FROM node:22-bookworm-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends bash ca-certificates coreutils git tar \
 && rm -rf /var/lib/apt/lists/* \
 && groupmod -n sandbox node \
 && usermod -l sandbox -d /sandbox -m node \
 && mkdir -p /sandbox/.logos \
 && chown -R sandbox:sandbox /sandbox

LABEL org.opencontainers.image.title="logos-sandbox" \
      org.opencontainers.image.description="Sandbox image for Logos workers on OpenShell: node, sh, bash, tar, git, coreutils" \
      dev.logos.sandbox="1"

USER sandbox
WORKDIR /sandbox
CMD ["sleep", "infinity"]
