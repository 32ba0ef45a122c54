/// The example configuration of `examples/walbridge.yml` (the seed's rename, address split and cents to dollars),
/// built in for `walbridge demo`; a test keeps the two equal.
public enum ExampleConfiguration {
    public static let text = """
        # walbridge.yml — the expand/contract example from the seed documents
        source: "host=legacy.internal dbname=shop user=walbridge"   # libpq conninfo or postgresql:// URI
        target: "host=newdb.internal dbname=shop user=walbridge"    # may be the same database as source
        slot: walbridge_shop          # logical replication slot on the source (plugin pgoutput)
        publication: walbridge_shop   # publication on the source; walbridge creates it for the mapped tables

        tables:
          public.users:                       # a legacy (source) table
            - into: public.users_v2           # a target table; a source table may feed several
              key: [id]                       # target columns that identify the row (a unique constraint)
              columns:                        # target column: SQL expression over the source row's columns
                id: id
                full_name: name               # rename
                email: email
            - into: public.addresses          # split: address columns move to their own table
              key: [user_id]
              when: address_street IS NOT NULL   # the target row exists exactly while this holds
              columns:
                user_id: id
                street: address_street
                city: address_city
                postal_code: address_postal_code
          public.products:
            - into: public.products_v2
              key: [id]
              columns:
                id: id
                name: name
                price: price::numeric / 100   # cents (integer) to dollars (DECIMAL(10,2)), exact

        # After the cut-over (walbridge cutover --reverse) the application writes the new tables, \
        and this mapping carries
        # their changes back to the legacy ones, \
        so that walbridge rollback can return to them. walbridge check proves the
        # pair: a sample of legacy rows, mapped forward and back, must come back as they were.
        reverse:
          public.users_v2:
            - into: public.users
              key: [id]
              columns:
                id: id
                name: full_name
                email: email
          public.addresses:
            - into: public.users              # the address columns of the same users row
              key: [id]
              insert: never                   # only fills rows that users_v2 inserted
              on_delete: clear                # a deleted address sets the columns to NULL; the user stays
              columns:
                id: user_id
                address_street: street
                address_city: city
                address_postal_code: postal_code
          public.products_v2:
            - into: public.products
              key: [id]
              columns:
                id: id
                name: name
                price: (price * 100)::bigint  # dollars back to cents, exact for DECIMAL(10,2)
        """
}
