variable "name" {
  description = "Prefix of every resource name (the cluster name)."
  type        = string
}

variable "server_ids" {
  description = "Node name => server ID."
  type        = map(string)
}

variable "extra_volumes" {
  description = "Node name => size in GB of an extra volume created and attached to it (cluster lifetime)."
  type        = map(number)
  default     = {}
}

variable "data_volume" {
  description = "The persistent data volume (kept in its own state, terraform/data-volume): its ID and the node to attach it to; null: none."
  type = object({
    id     = string
    node   = string
    device = optional(string)
  })
  default = null
}
