import sys
F = sys.argv[1]
def rd(p): return open(f"{F}/{p}", "rb").read().decode()
def hdr(name):
    return ("{# dasprov bench peer template: the stock DAS 3.1.0 " + name +
            " (sandbox fixture) with the settings of Playbooks/site.dasp #}\n")
def wr(name, s, label=None):
    h = hdr(label or name[:-3])
    if s.startswith("<?xml"):
        first, rest = s.split("\n", 1)
        s = first + "\n" + h + rest
    else:
        s = h + s
    open(name, "wb").write(s.encode())
def sub1(s, old, new):
    assert s.count(old) == 1, (old, s.count(old))
    return s.replace(old, new)

s = rd("carbon.xml")
s = sub1(s, "<Offset>0</Offset>", "<Offset>{{ das_port_offset }}</Offset>")
wr("carbon.xml.j2", s)

s = rd("datasources/master-datasources.xml")
block = """{% for ds in das_shared_datasources %}
        <datasource>
            <name>{{ ds.name }}</name>
            <description>{{ ds.description }}</description>
            <jndiConfig>
                <name>jdbc/{{ ds.name }}</name>
            </jndiConfig>
            <definition type="RDBMS">
                <configuration>
                    <url>jdbc:mysql://{{ db_host }}:{{ db_port }}/{{ ds.database }}</url>
                    <username>{{ db_user | e }}</username>
                    <password>{{ db_password | e }}</password>
                    <driverClassName>com.mysql.jdbc.Driver</driverClassName>
                    <maxActive>{{ das_datasource_max_active }}</maxActive>
                    <maxWait>60000</maxWait>
                    <testOnBorrow>true</testOnBorrow>
                    <validationQuery>SELECT 1</validationQuery>
                    <validationInterval>30000</validationInterval>
                </configuration>
            </definition>
        </datasource>
{% endfor %}
"""
s = sub1(s, "        </datasource>\n\n        <!-- Add more", "        </datasource>\n" + block + "\n        <!-- Add more")
wr("master-datasources.xml.j2", s)

s = rd("datasources/analytics-datasources.xml")
for db, h2 in (("WSO2_ANALYTICS_EVENT_STORE_DB", "ANALYTICS_EVENT_STORE"), ("WSO2_ANALYTICS_PROCESSED_DATA_STORE_DB", "ANALYTICS_PROCESSED_DATA_STORE")):
    s = sub1(s, f"<url>jdbc:h2:repository/database/{h2};AUTO_SERVER=TRUE;DB_CLOSE_ON_EXIT=FALSE;LOCK_TIMEOUT=60000</url>",
             "<url>jdbc:mysql://{{ db_host }}:{{ db_port }}/" + db + "</url>")
s = s.replace("<username>wso2carbon</username>", "<username>{{ db_user | e }}</username>")
s = s.replace("<password>wso2carbon</password>", "<password>{{ db_password | e }}</password>")
assert s.count("<maxActive>50</maxActive>") == 2
s = s.replace("<maxActive>50</maxActive>", "<maxActive>{{ das_datasource_max_active }}</maxActive>")
s = s.replace("<driverClassName>org.h2.Driver</driverClassName>", "<driverClassName>com.mysql.jdbc.Driver</driverClassName>")
s = s.replace("<defaultTransactionIsolation>READ_COMMITTED</defaultTransactionIsolation>\n",
              "<defaultTransactionIsolation>READ_COMMITTED</defaultTransactionIsolation>\n"
              "                    <testOnBorrow>true</testOnBorrow>\n"
              "                    <validationInterval>30000</validationInterval>\n")
wr("analytics-datasources.xml.j2", s)

s = rd("user-mgt.xml")
s = sub1(s, '<Property name="dataSource">jdbc/WSO2CarbonDB</Property>', '<Property name="dataSource">jdbc/WSO2UM_DB</Property>')
wr("user-mgt.xml.j2", s)

s = rd("registry.xml")
s = sub1(s, "    <dbConfig name=\"wso2registry\">\n        <dataSource>jdbc/WSO2CarbonDB</dataSource>\n    </dbConfig>\n",
         "    <dbConfig name=\"wso2registry\">\n        <dataSource>jdbc/WSO2CarbonDB</dataSource>\n    </dbConfig>\n"
         "    <dbConfig name=\"govregistry\">\n        <dataSource>jdbc/WSO2REG_DB</dataSource>\n    </dbConfig>\n")
s = sub1(s, "    </mount-->\n\n    <indexingConfiguration>",
         """    </mount-->

    <remoteInstance url="https://localhost:{{ 9443 + das_port_offset | int }}/registry">
        <id>gov</id>
        <cacheId>{{ db_user | e }}@jdbc:mysql://{{ db_host }}:{{ db_port }}/regdb</cacheId>
        <dbConfig>govregistry</dbConfig>
        <readOnly>false</readOnly>
        <enableCache>true</enableCache>
        <registryRoot>/</registryRoot>
    </remoteInstance>
    <mount path="/_system/governance" overwrite="true">
        <instanceId>gov</instanceId>
        <targetPath>/_system/governance</targetPath>
    </mount>
    <mount path="/_system/config" overwrite="true">
        <instanceId>gov</instanceId>
        <targetPath>/_system/config</targetPath>
    </mount>
    <indexingConfiguration>""")
wr("registry.xml.j2", s)

s = rd("axis2/axis2.xml")
assert "\r\n" in s
s = s.replace("\r\n", "\n")
s = sub1(s, 'enable="false">\n        <parameter name="AvoidInitiation">', 'enable="true">\n        <parameter name="AvoidInitiation">')
s = sub1(s, '<parameter name="membershipScheme">multicast</parameter>', '<parameter name="membershipScheme">wka</parameter>')
s = sub1(s, '<parameter name="localMemberHost">127.0.0.1</parameter>', '<parameter name="localMemberHost">{{ das_address }}</parameter>')
s = sub1(s, '<parameter name="localMemberPort">4000</parameter>', '<parameter name="localMemberPort">{{ hazelcast_port }}</parameter>')
s = sub1(s, """        <members>
            <member>
                <hostName>127.0.0.1</hostName>
                <port>4000</port>
            </member>
        </members>
""", """        <members>
{% for h in hazelcast_peers %}
            <member>
                <hostName>{{ hostvars[h].das_address | default(hostvars[h].ansible_host | default(h)) }}</hostName>
                <port>{{ hostvars[h].hazelcast_port | default(4000) }}</port>
            </member>
{% endfor %}
        </members>
""")
wr("axis2.xml.j2", s, "axis2/axis2.xml (CRLF line ends: render with newline_sequence CRLF)")

s = rd("event-processor.xml")
# FACTS.md §10: a node presents only when HA worker is false and presenter true; every HA member
# advertises its own eventSync and management address; presenters present on their own address.
s = sub1(s, '<mode name="HA" enable="false">', '<mode name="HA" enable="true">')
s = sub1(s, '<mode name="Distributed" enable="false">', '<mode name="Distributed" enable="true">')
s = sub1(s, """            <worker enable="true"/>
            <presenter enable="false"/>""", """            <worker enable="{{ 'false' if 'presenters' in group_names else 'true' }}"/>
            <presenter enable="{{ 'true' if 'presenters' in group_names else 'false' }}"/>""")
s = sub1(s, """        <eventSync>
            <hostName>0.0.0.0</hostName>""", """        <eventSync>
            <hostName>{{ das_address }}</hostName>""")
s = sub1(s, """        <management>
            <hostName>0.0.0.0</hostName>""", """        <management>
            <hostName>{{ das_address }}</hostName>""")
s = sub1(s, """        <presentation>
            <hostName>0.0.0.0</hostName>
            <port>11000</port>""", """        <presentation>
            <hostName>{{ das_address if 'presenters' in group_names else '0.0.0.0' }}</hostName>
            <port>{{ 11002 if 'analyzers' in group_names else 11000 }}</port>""")
s = sub1(s, '<persistence enable="true">', '<persistence enable="{{ \'true\' if (cep_persistence | string | lower) in [\'true\', \'yes\', \'1\'] else \'false\' }}">')
wr("event-processor.xml.j2", s)

s = rd("analytics/spark/spark-defaults.conf")
s = sub1(s, "carbon.spark.master.count  1\n", "carbon.spark.master.count  2\n")
s = sub1(s, "# carbon.das.symbolic.link /home/ubuntu/das/das_symlink/\n",
         "# carbon.das.symbolic.link /home/ubuntu/das/das_symlink/\ncarbon.das.symbolic.link {{ das_link }}\n")
wr("spark-defaults.conf.j2", s)
