//! moto's S3-compatible server (from `tests/oracle/requirements.txt`, in the virtual
//! environment `tests/run` makes) on a free port of this machine, with the bucket [`BUCKET`]
//! made, and boto3 (moto's own dependency) as the independent client that lists and tampers.

use std::io::Read as _;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::setup::{cannot_run, python, SETUP_COMMAND};

/// The bucket the server is started with.
pub const BUCKET: &str = "cachekiller-archive";

/// moto's server, stopped when dropped.
pub struct S3Server {
    child: Child,
    port: u16,
    log: tempfile::NamedTempFile,
}

impl S3Server {
    /// Starts the server and makes the bucket; fails naming `tests/run` if moto is missing.
    #[must_use]
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = tempfile::NamedTempFile::new().unwrap();
        let python = python();
        let child = Command::new(&python)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(log.reopen().unwrap())
            .stderr(log.reopen().unwrap())
            .spawn()
            .unwrap_or_else(|error| panic!("{}", cannot_run(&python, &error)));
        let mut server = S3Server { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!(
                    "moto's S3 server ({python} -m moto.server) exited with {status}: run \
                     `{SETUP_COMMAND}`, which installs tests/oracle/requirements.txt into its \
                     virtual environment.\n{}",
                    server.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "moto's server did not listen: {}",
                server.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server.boto3(&format!("s3.create_bucket(Bucket='{BUCKET}')"));
        server
    }

    /// What the server logged so far.
    pub fn log_text(&mut self) -> String {
        let mut text = String::new();
        self.log
            .reopen()
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        text
    }

    /// Its URL, for `endpoint` (`AWS_ENDPOINT`).
    #[must_use]
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Runs `statements` with `s3` a boto3 client of the server; returns what they print.
    pub fn boto3(&self, statements: &str) -> String {
        let script = format!(
            "import boto3\ns3 = boto3.client('s3', endpoint_url='{}', region_name='us-east-1', \
             aws_access_key_id='test', aws_secret_access_key='test')\n{statements}\n",
            self.endpoint()
        );
        let output = Command::new(python())
            .args(["-c", &script])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "boto3: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Every key of the bucket below `prefix`, sorted.
    #[must_use]
    pub fn keys(&self, prefix: &str) -> Vec<String> {
        let listed = self.boto3(&format!(
            "for page in s3.get_paginator('list_objects_v2').paginate(Bucket='{BUCKET}', \
             Prefix='{prefix}'):\n    for item in page.get('Contents', []): print(item['Key'])"
        ));
        let mut keys: Vec<String> = listed.lines().map(str::to_owned).collect();
        keys.sort();
        keys
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
