variable "cloud" {
  description = "Name of the cloud in clouds.yaml."
  type        = string
}

variable "name" {
  description = "Name of the data volume to create, or of the existing volume to use (with existing = true)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][-_.A-Za-z0-9]{0,62}$", var.name))
    error_message = "name must be 1-63 letters, digits, '-', '_' or '.', starting with a letter or digit."
  }
}

variable "existing" {
  description = "Use an existing volume (looked up by name, or given by existing_id) instead of creating one."
  type        = bool
  default     = false
}

variable "existing_id" {
  description = "ID of an existing volume to use as is (no lookup); implies existing."
  type        = string
  default     = null
}

variable "size" {
  description = "Size in GB of the volume to create."
  type        = number
  default     = 50

  validation {
    condition     = var.size >= 1 && floor(var.size) == var.size
    error_message = "size must be a whole number of GB, at least 1."
  }
}

variable "volume_type" {
  description = "Volume type of the volume to create (null: the cloud's default)."
  type        = string
  default     = null
}

variable "availability_zone" {
  description = "Availability zone of the volume to create (null: the cloud's default)."
  type        = string
  default     = null
}
