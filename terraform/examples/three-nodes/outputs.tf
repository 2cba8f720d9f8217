output "inventory" {
  description = "The inventory output the mlops.platform.terraform plugin reads."
  value       = module.cluster.inventory
}

output "api_endpoint" {
  description = "URL of the Kubernetes API."
  value       = module.cluster.api_endpoint
}
