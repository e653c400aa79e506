#!/usr/bin/env python3
"""Compares a DAS config file before and after dasprov, ignoring exactly the elements and
attributes the seed edits: anything else that differs is printed and the exit status is 1.

usage: outside_seed.py KIND BEFORE AFTER   (KIND: the file's name, e.g. axis2.xml)
"""
import sys
import xml.etree.ElementTree as ET

CARBON = "{http://wso2.org/projects/carbon/carbon.xml}"
POOL = ["url", "username", "password", "driverClassName", "maxActive", "maxWait", "testOnBorrow",
        "validationQuery", "validationInterval", "defaultAutoCommit"]


def strip(kind, root):
    def remove(path):
        for parent in root.iter():
            for child in list(parent):
                if child in root.findall(path):
                    parent.remove(child)

    def blank_text(path):
        for e in root.findall(path):
            e.text = "*"

    def drop_attr(path, name):
        for e in root.findall(path):
            e.attrib.pop(name, None)

    if kind == "master-datasources.xml":
        remove("./datasources/datasource[name='WSO2UM_DB']")
        remove("./datasources/datasource[name='WSO2REG_DB']")
    elif kind == "analytics-datasources.xml":
        for ds in ("WSO2_ANALYTICS_EVENT_STORE_DB", "WSO2_ANALYTICS_PROCESSED_DATA_STORE_DB"):
            for name in POOL:
                remove(f"./datasources/datasource[name='{ds}']/definition/configuration/{name}")
    elif kind == "user-mgt.xml":
        blank_text("./Realm/Configuration/Property[@name='dataSource']")
    elif kind == "registry.xml":
        remove("./dbConfig[@name='govregistry']")
        remove("./remoteInstance")
        remove("./mount")
    elif kind == "axis2.xml":
        drop_attr("./clustering", "enable")
        for p in ("membershipScheme", "localMemberHost", "localMemberPort"):
            blank_text(f"./clustering/parameter[@name='{p}']")
        remove("./clustering/members")
    elif kind == "event-processor.xml":
        drop_attr("./mode", "enable")
        drop_attr("./mode[@name='HA']/nodeType/presenter", "enable")
        drop_attr("./mode[@name='HA']/nodeType/worker", "enable")
        drop_attr("./mode[@name='HA']/persistence", "enable")
        blank_text("./mode[@name='HA']/eventSync/hostName")
        blank_text("./mode[@name='HA']/management/hostName")
        blank_text("./mode[@name='HA']/presentation/hostName")
        blank_text("./mode[@name='HA']/presentation/port")
    elif kind == "carbon.xml":
        blank_text(f"./{CARBON}Ports/{CARBON}Offset")
    return root


def canonical(e, depth=0):
    text = (e.text or "").strip()
    attrs = " ".join(f'{k}="{v}"' for k, v in sorted(e.attrib.items()))
    out = ["  " * depth + f"<{e.tag} {attrs}>{text}"]
    for c in e:
        out.extend(canonical(c, depth + 1))
    return out


kind, before, after = sys.argv[1:4]
a = canonical(strip(kind, ET.parse(before).getroot()))
b = canonical(strip(kind, ET.parse(after).getroot()))
if a != b:
    import difflib
    sys.stdout.write("\n".join(difflib.unified_diff(a, b, "pristine", "applied", lineterm="")) + "\n")
    sys.exit(1)
