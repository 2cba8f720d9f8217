variable "name" {
  description = "Name of the security group (the cluster name)."
  type        = string
}

variable "admin_cidrs" {
  description = "CIDRs allowed to reach SSH (22) and the Kubernetes API (6443)."
  type        = list(string)
}

variable "ingress_cidrs" {
  description = "CIDRs allowed to reach the platform and environment ports."
  type        = list(string)
}

variable "ingress_ports" {
  description = "Ports or ranges (\"80\", \"30000-32767\") opened to ingress_cidrs."
  type        = list(string)
}
