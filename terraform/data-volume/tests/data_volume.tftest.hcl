# The separate data-volume root: create a volume, or reuse an existing one.
mock_provider "openstack" {
  mock_data "openstack_blockstorage_volume_v3" {
    defaults = {
      id = "0a1b2c3d-0000-4000-8000-00000000da7a"
    }
  }
}

variables {
  cloud = "test"
  name  = "mlops-data"
}

run "creates_volume_by_default" {
  variables {
    size = 100
  }
  assert {
    condition     = length(openstack_blockstorage_volume_v3.this) == 1 && openstack_blockstorage_volume_v3.this[0].size == 100
    error_message = "a 100 GB volume must be created"
  }
  assert {
    condition     = output.created && output.id == openstack_blockstorage_volume_v3.this[0].id
    error_message = "the output must name the created volume"
  }
}

run "existing_volume_by_name_creates_none" {
  variables {
    existing = true
  }
  assert {
    condition     = length(openstack_blockstorage_volume_v3.this) == 0
    error_message = "existing-volume mode must create no volume"
  }
  assert {
    condition     = output.id == "0a1b2c3d-0000-4000-8000-00000000da7a" && !output.created
    error_message = "the looked-up volume's id must be returned"
  }
}

run "existing_volume_by_id_creates_none" {
  variables {
    existing_id = "feedface-0000-4000-8000-000000000001"
  }
  assert {
    condition     = length(openstack_blockstorage_volume_v3.this) == 0 && output.id == "feedface-0000-4000-8000-000000000001"
    error_message = "an existing id is used as is"
  }
}

run "volume_size_must_be_whole_gb" {
  command = plan
  variables {
    size = 0.5
  }
  expect_failures = [var.size]
}
