variable "cloud" {
  description = "Name of the cloud in clouds.yaml."
  type        = string
  default     = "openstack"
}

variable "admin_cidr" {
  description = "The operator's address range, allowed to SSH and to the Kubernetes API."
  type        = string
  default     = "198.51.100.0/24"
}
