variable "name" {
  description = "Prefix of every resource name (the cluster name)."
  type        = string
}

variable "cidr" {
  description = "CIDR of the private subnet created for the cluster (ignored with existing_network)."
  type        = string
}

variable "existing_network" {
  description = "Name of an existing network to attach the ports to instead of creating one (null: create)."
  type        = string
  default     = null
}

variable "existing_subnet" {
  description = "Name of the subnet of existing_network to use (null: the network's only subnet)."
  type        = string
  default     = null
}

variable "external_network" {
  description = "Name of the external network: a router to it is created, and floating IPs come from it (null: none)."
  type        = string
  default     = null
}

variable "dns_nameservers" {
  description = "DNS servers of the created subnet."
  type        = list(string)
  default     = []
}

variable "ports" {
  description = "One port per node: node name => optional fixed IP (null: allocated from the subnet)."
  type        = map(object({ fixed_ip = optional(string) }))
}

variable "security_group_ids" {
  description = "Security groups of every port."
  type        = list(string)
}

variable "allowed_cidrs" {
  description = "Extra source CIDRs each port may use (the pod and service CIDRs), port security stays on."
  type        = list(string)
}

variable "floating_ip" {
  description = "Floating IP of the access node: pool to allocate from, or a reserved address to reuse; null pool and address: none."
  type = object({
    pool    = optional(string)
    address = optional(string)
  })
  default = {}
}

variable "floating_ip_port" {
  description = "Name of the node (a key of ports) whose port carries the floating IP."
  type        = string
}
