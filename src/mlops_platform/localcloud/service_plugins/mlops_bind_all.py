"""An ML2 mechanism driver that binds every port, for the local cloud's neutron-server.

The local cloud has no data plane and no L2 agent, so no real mechanism driver can bind
a port, and neutron's own test driver binds only special host names. This one binds
each port to its first segment as an OVS port, ACTIVE at once, which is what Nova waits
for before it boots a (fake) server. Loaded through the `neutron.ml2.mechanism_drivers`
entry point that mlops_platform.localcloud writes beside it.
"""

from neutron_lib import constants
from neutron_lib.api.definitions import portbindings
from neutron_lib.plugins.ml2 import api


class BindAllMechanismDriver(api.MechanismDriver):
    def initialize(self):
        pass

    def bind_port(self, context):
        for segment in context.segments_to_bind:
            context.set_binding(
                segment[api.ID],
                portbindings.VIF_TYPE_OVS,
                {portbindings.CAP_PORT_FILTER: True, portbindings.OVS_HYBRID_PLUG: False},
                status=constants.PORT_STATUS_ACTIVE,
            )
            return
