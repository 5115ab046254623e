"""Microsoft.ContainerService managed clusters (AKS), their agent pools, and a Kubernetes API for Deployments."""
