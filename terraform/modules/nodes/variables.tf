variable "name" {
  description = "Prefix of every resource name (the cluster name)."
  type        = string
}

variable "nodes" {
  description = "Node name => flavor, image and Kubernetes roles; the port to boot on comes from port_ids."
  type = map(object({
    flavor = string
    image  = string
    roles  = list(string)
  }))
}

variable "port_ids" {
  description = "Node name => ID of the port the node boots on."
  type        = map(string)
}

variable "keypair" {
  description = "Key pair: the name of an existing one, or a name and public_key to create it."
  type = object({
    name       = string
    public_key = optional(string)
  })
}

variable "server_group_policy" {
  description = "Scheduling policy of the nodes' server group."
  type        = string
  default     = "soft-anti-affinity"
}

variable "user_data" {
  description = "cloud-init user data of every node; a change applies to new nodes only (no replacement)."
  type        = string
  default     = null
}
