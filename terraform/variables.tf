variable "cloud" {
  description = "Name of the cloud in clouds.yaml (credentials never go in Terraform variables)."
  type        = string
}

variable "cluster_name" {
  description = "Cluster name: prefix of every resource name; DNS-safe (lowercase letters, digits, '-'), at most 32 characters."
  type        = string

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$", var.cluster_name))
    error_message = "cluster_name must be DNS-safe: lowercase letters, digits and '-', start with a letter, at most 32 characters."
  }
}

variable "image" {
  description = "Default image name of the nodes (a node may set its own)."
  type        = string
}

variable "ssh_user" {
  description = "User Ansible logs in as (the image's default user); carried into the inventory output."
  type        = string
  default     = "debian"
}

variable "nodes" {
  description = <<-EOT
    Node name => settings. roles: any of control_plane, etcd, worker. flavor: flavor name.
    image: overrides var.image. fixed_ip: a fixed private IP (null: allocated).
    extra_volume_size: GB of an extra volume for this node (null: none).
    Adding a node never replaces the others (for_each over this map).
  EOT
  type = map(object({
    roles             = list(string)
    flavor            = string
    image             = optional(string)
    fixed_ip          = optional(string)
    extra_volume_size = optional(number)
  }))

  validation {
    condition     = alltrue([for name in keys(var.nodes) : can(regex("^[A-Za-z0-9]([-A-Za-z0-9]{0,30}[A-Za-z0-9])?$", name))])
    error_message = "Each node name must be DNS-safe: letters, digits and '-', at most 32 characters, no leading or trailing '-'."
  }
  validation {
    condition     = length(distinct([for name in keys(var.nodes) : lower(name)])) == length(var.nodes)
    error_message = "Node names must be unique as host names (case-insensitive): two names differ only in case."
  }
  validation {
    condition     = alltrue(flatten([for n in values(var.nodes) : [for r in n.roles : contains(["control_plane", "etcd", "worker"], r)]]))
    error_message = "Node roles must be among control_plane, etcd and worker."
  }
  validation {
    condition     = length([for n in values(var.nodes) : n if contains(n.roles, "control_plane")]) >= 1
    error_message = "At least one node must have the control_plane role."
  }
  validation {
    condition     = length([for n in values(var.nodes) : n if contains(n.roles, "etcd")]) % 2 == 1
    error_message = "The number of etcd members must be odd (1, 3, 5...) so the cluster keeps a quorum."
  }
  validation {
    condition     = alltrue([for n in values(var.nodes) : n.fixed_ip == null || can(cidrnetmask("${coalesce(n.fixed_ip, "0.0.0.0")}/32"))])
    error_message = "A node's fixed_ip must be an IPv4 address."
  }
  validation {
    condition     = length(compact([for n in values(var.nodes) : n.fixed_ip])) == length(distinct(compact([for n in values(var.nodes) : n.fixed_ip])))
    error_message = "Two nodes have the same fixed_ip."
  }
}

variable "network" {
  description = <<-EOT
    Private network. cidr: the subnet to create. existing_network / existing_subnet: attach to
    an existing network by name instead. external_network: router and floating IP pool.
  EOT
  type = object({
    cidr             = optional(string, "10.42.0.0/24")
    existing_network = optional(string)
    existing_subnet  = optional(string)
    external_network = optional(string)
    dns_nameservers  = optional(list(string), [])
  })
  default = {}

  validation {
    condition     = can(cidrnetmask(var.network.cidr))
    error_message = "network.cidr must be an IPv4 CIDR such as 10.42.0.0/24."
  }
}

variable "pod_cidr" {
  description = "Kubernetes pod CIDR (mlops_pod_cidr): allowed on every port for Calico."
  type        = string
  default     = "10.233.64.0/18"

  validation {
    condition     = can(cidrnetmask(var.pod_cidr))
    error_message = "pod_cidr must be an IPv4 CIDR such as 10.233.64.0/18."
  }
}

variable "service_cidr" {
  description = "Kubernetes service CIDR (mlops_service_cidr): allowed on every port."
  type        = string
  default     = "10.233.0.0/18"

  validation {
    condition     = can(cidrnetmask(var.service_cidr))
    error_message = "service_cidr must be an IPv4 CIDR such as 10.233.0.0/18."
  }
}

variable "admin_cidrs" {
  description = "CIDRs that may reach SSH (22) and the Kubernetes API (6443). Empty: nobody from outside."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.admin_cidrs : can(cidrnetmask(c))])
    error_message = "Each admin_cidrs entry must be an IPv4 CIDR such as 203.0.113.0/24."
  }
}

variable "ingress_cidrs" {
  description = "CIDRs that may reach ingress_ports (the platform and environments). Empty: nobody from outside."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.ingress_cidrs : can(cidrnetmask(c))])
    error_message = "Each ingress_cidrs entry must be an IPv4 CIDR such as 0.0.0.0/0 or 198.51.100.0/24."
  }
}

variable "ingress_ports" {
  description = "TCP ports or ranges (\"443\", \"30000-32767\") opened to ingress_cidrs."
  type        = list(string)
  default     = ["80", "443"]

  validation {
    condition = alltrue([
      for p in var.ingress_ports : can(regex("^[0-9]{1,5}(-[0-9]{1,5})?$", p)) && alltrue([
        for n in split("-", p) : can(tonumber(n)) && tonumber(n) >= 1 && tonumber(n) <= 65535
      ])
    ])
    error_message = "Each ingress_ports entry must be a port (1-65535) or a range such as 30000-32767."
  }
}

variable "keypair" {
  description = "Key pair: the name of an existing one, or a name and a public_key to create it."
  type = object({
    name       = string
    public_key = optional(string)
  })
}

variable "floating_ip" {
  description = "Floating IP of the first control-plane node: pool to allocate from (default: network.external_network), or a reserved address to reuse."
  type = object({
    pool    = optional(string)
    address = optional(string)
  })
  default = {}

  validation {
    condition     = var.floating_ip.address == null || can(cidrnetmask("${coalesce(var.floating_ip.address, "0.0.0.0")}/32"))
    error_message = "floating_ip.address must be an IPv4 address."
  }
}

variable "data_volume" {
  description = "The persistent data volume from terraform/data-volume (its output id) attached to the first control-plane node; null: none. device: a hint such as /dev/vdb."
  type = object({
    id     = optional(string)
    device = optional(string)
  })
  # null, not an object with a null id, says "no volume": whether to attach must be
  # known at plan time, and the id is not when the volume is created in the same apply.
  default = null

  validation {
    condition     = var.data_volume == null || try(var.data_volume.id != null, true)
    error_message = "data_volume.id is required: the ID of the volume to attach (set data_volume = null for none)."
  }
}

variable "server_group_policy" {
  description = "Scheduling policy of the nodes' server group."
  type        = string
  default     = "soft-anti-affinity"

  validation {
    condition     = contains(["anti-affinity", "soft-anti-affinity", "affinity", "soft-affinity"], var.server_group_policy)
    error_message = "server_group_policy must be one of anti-affinity, soft-anti-affinity, affinity, soft-affinity."
  }
}

variable "user_data" {
  description = "cloud-init user data of the nodes; changing it never replaces a node."
  type        = string
  default     = null
}
